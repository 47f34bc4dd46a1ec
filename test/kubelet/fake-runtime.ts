/**
 * An in-memory CRI RuntimeService for the kubelet's tests: sandboxes and containers with states
 * and times on the test's clock, and a script saying how a started container behaves (runs, or
 * exits at once with a code). Plus fake helpers and image manager, so a Kubelet runs whole pods
 * with no containers.
 */
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Duplex } from "node:stream";
import type { Clock } from "../../src/clock/index.js";
import type { ImageManager, ImageService } from "../../src/images/index.js";
import type { EnsureImageRequest, EnsureImageResult } from "../../src/images/index.js";
import type { PodHelpers } from "../../src/kubelet/index.js";
import type {
  Container, ContainerConfig, ContainerState, ContainerStats, ContainerStatusResponse, PodSandbox, PodSandboxConfig, PodSandboxStatusResponse, RuntimeService,
} from "../../src/runtime/index.js";
import { NotFoundError } from "../../src/errdefs/index.js";

interface FakeBox { id: string; config: PodSandboxConfig; state: "SANDBOX_READY" | "SANDBOX_NOTREADY"; createdAt: bigint; ip: string }
interface FakeCtr {
  id: string; sandboxId: string; config: ContainerConfig; state: ContainerState; createdAt: bigint; startedAt: bigint; finishedAt: bigint;
  exitCode: number; reason: string; message: string;
}

export type Behaviour = {
  exitCode?: number;
  startError?: string;
  /** Written, before the exit, to the host file of the mount at this container path (a termination-log). */
  writeFile?: { path: string; data: string };
  /** Lines written to the container's CRI log (stdout) before the exit. */
  log?: string[];
};

export class FakeRuntime implements RuntimeService {
  readonly boxes = new Map<string, FakeBox>();
  readonly ctrs = new Map<string, FakeCtr>();
  readonly calls: string[] = [];
  #seq = 0n;
  #ipSeq = 1;
  readonly clock: Clock;
  /** How a container behaves when started, by container name. */
  script: (name: string) => Behaviour = () => ({});
  /** Awaited inside StartContainer (after the call is recorded): holds a start as a slow runtime would. */
  startGate: ((name: string) => Promise<void>) | undefined;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  #now(): bigint {
    // strictly rising, so newest-first order is well defined
    return BigInt(this.clock.now()) * 1_000_000n + ++this.#seq;
  }

  #id(): string {
    return createHash("sha256").update(String(++this.#seq)).digest("hex");
  }

  async version() {
    return { version: "0.1.0", runtimeName: "podyard", runtimeVersion: "0.1.0", runtimeApiVersion: "v1" };
  }

  async status() {
    return { conditions: [] };
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = this.#id();
    this.boxes.set(id, { id, config, state: "SANDBOX_READY", createdAt: this.#now(), ip: `10.88.0.${this.#ipSeq++}` });
    this.calls.push(`runPodSandbox ${config.metadata.name}`);
    return id;
  }

  async stopPodSandbox(id: string): Promise<void> {
    const b = this.boxes.get(id);
    if (!b) return;
    this.calls.push(`stopPodSandbox ${b.config.metadata.name}`);
    for (const c of this.ctrs.values()) if (c.sandboxId === id && c.state === "CONTAINER_RUNNING") this.#exit(c, 137, "Error");
    b.state = "SANDBOX_NOTREADY";
  }

  async removePodSandbox(id: string): Promise<void> {
    const b = this.boxes.get(id);
    if (!b) return;
    this.calls.push(`removePodSandbox ${b.config.metadata.name}`);
    for (const [cid, c] of this.ctrs) if (c.sandboxId === id) this.ctrs.delete(cid);
    this.boxes.delete(id);
  }

  async podSandboxStatus(id: string): Promise<PodSandboxStatusResponse> {
    const b = this.boxes.get(id);
    if (!b) throw new NotFoundError(`sandbox ${id} not found`);
    return {
      status: { id, metadata: b.config.metadata, state: b.state, createdAt: b.createdAt, network: { ip: b.ip, additionalIps: [] }, labels: b.config.labels ?? {}, annotations: b.config.annotations ?? {} },
      info: {},
    };
  }

  #matches(labels: Record<string, string>, sel: Record<string, string> | undefined): boolean {
    return Object.entries(sel ?? {}).every(([k, v]) => labels[k] === v);
  }

  async listPodSandbox(filter?: { id?: string; labelSelector?: Record<string, string> }): Promise<PodSandbox[]> {
    return [...this.boxes.values()].filter((b) => (!filter?.id || b.id === filter.id) && this.#matches(b.config.labels ?? {}, filter?.labelSelector)).map((b) => ({
      id: b.id, metadata: b.config.metadata, state: b.state, createdAt: b.createdAt, labels: b.config.labels ?? {}, annotations: b.config.annotations ?? {},
    }));
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const id = this.#id();
    this.ctrs.set(id, { id, sandboxId, config, state: "CONTAINER_CREATED", createdAt: this.#now(), startedAt: 0n, finishedAt: 0n, exitCode: 0, reason: "", message: "" });
    this.calls.push(`createContainer ${config.metadata.name}`);
    return id;
  }

  #exit(c: FakeCtr, code: number, reason: string, message = ""): void {
    c.state = "CONTAINER_EXITED";
    c.exitCode = code;
    c.reason = reason;
    c.message = message;
    c.finishedAt = this.#now();
  }

  async startContainer(id: string): Promise<void> {
    const c = this.ctrs.get(id);
    if (!c) throw new NotFoundError(`container ${id} not found`);
    this.calls.push(`startContainer ${c.config.metadata.name}`);
    await this.startGate?.(c.config.metadata.name);
    const b = this.script(c.config.metadata.name);
    c.startedAt = this.#now();
    if (b.startError) {
      this.#exit(c, 128, "StartError", b.startError);
      throw new Error(b.startError);
    }
    c.state = "CONTAINER_RUNNING";
    if (b.writeFile) {
      const m = c.config.mounts?.find((x) => x.containerPath === b.writeFile?.path);
      if (m) writeFileSync(m.hostPath, b.writeFile.data);
    }
    if (b.log && this.realLogPaths) {
      const path = this.#logPath(c);
      mkdirSync(dirname(path), { recursive: true });
      const ts = new Date(this.clock.now()).toISOString().replace(/\.(\d+)Z$/, ".$1000000Z");
      appendFileSync(path, b.log.map((l) => `${ts} stdout F ${l}\n`).join(""));
    }
    if (b.exitCode !== undefined) this.#exit(c, b.exitCode, b.exitCode === 0 ? "Completed" : "Error");
  }

  /** Report the log path the CRI way (the sandbox's logDirectory joined with the container's logPath) rather than under /logs. */
  realLogPaths = false;

  #logPath(c: FakeCtr): string {
    const dir = this.boxes.get(c.sandboxId)?.config.logDirectory;
    return this.realLogPaths && dir ? join(dir, c.config.logPath ?? "") : `/logs/${c.config.logPath ?? ""}`;
  }

  /** Makes a running container exit now (as if its process ended). */
  exitNow(name: string, code: number): void {
    for (const c of this.ctrs.values()) if (c.config.metadata.name === name && c.state === "CONTAINER_RUNNING") this.#exit(c, code, code === 0 ? "Completed" : "Error");
  }

  /** Containers ignore SIGTERM: a stop takes its whole timeout on the clock, then kills. */
  ignoreSigterm = false;

  async stopContainer(id: string, timeout: number): Promise<void> {
    const c = this.ctrs.get(id);
    if (!c) return;
    this.calls.push(`stopContainer ${c.config.metadata.name} ${timeout}`);
    if (this.ignoreSigterm) await this.clock.sleep(timeout * 1000);
    if (c.state === "CONTAINER_RUNNING" || c.state === "CONTAINER_CREATED") this.#exit(c, 143, "Error");
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.ctrs.get(id);
    if (c) this.calls.push(`removeContainer ${c.config.metadata.name}`);
    this.ctrs.delete(id);
  }

  async listContainers(filter?: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> }): Promise<Container[]> {
    return [...this.ctrs.values()].filter((c) => (!filter?.id || c.id === filter.id) && (!filter?.podSandboxId || c.sandboxId === filter.podSandboxId) && this.#matches(c.config.labels ?? {}, filter?.labelSelector)).map((c) => ({
      id: c.id, podSandboxId: c.sandboxId, metadata: c.config.metadata, image: c.config.image, imageRef: "sha256:img", state: c.state, createdAt: c.createdAt,
      labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {},
    }));
  }

  async containerStatus(id: string): Promise<ContainerStatusResponse> {
    const c = this.ctrs.get(id);
    if (!c) throw new NotFoundError(`container ${id} not found`);
    return {
      status: {
        id, metadata: c.config.metadata, state: c.state, createdAt: c.createdAt, startedAt: c.startedAt, finishedAt: c.finishedAt, exitCode: c.exitCode,
        image: { image: "docker.io/library/busybox:latest" }, imageRef: "docker.io/library/busybox@sha256:0123", reason: c.reason, message: c.message,
        labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {}, mounts: [], logPath: this.#logPath(c),
      },
      info: {},
    };
  }

  execResult: (cmd: string[]) => { exitCode: number; out: string } = () => ({ exitCode: 0, out: "" });

  async execSync(id: string, cmd: string[]) {
    this.calls.push(`execSync ${this.ctrs.get(id)?.config.metadata.name ?? id} ${cmd.join(" ")}`);
    const r = this.execResult(cmd);
    return { stdout: Buffer.from(r.out), stderr: Buffer.alloc(0), exitCode: r.exitCode };
  }

  async exec(): Promise<number> {
    return 0;
  }

  async attach(): Promise<void> {}

  async reopenContainerLog(): Promise<void> {}

  async portForward(): Promise<Duplex> {
    throw new Error("no port-forward in the fake runtime");
  }

  async containerStats(id: string): Promise<ContainerStats> {
    const c = this.ctrs.get(id);
    return { attributes: { id, metadata: c?.config.metadata ?? { name: "" }, labels: c?.config.labels ?? {}, annotations: {} } };
  }

  async listContainerStats(): Promise<ContainerStats[]> {
    return Promise.all([...this.ctrs.keys()].map((id) => this.containerStats(id)));
  }
}

export const fakeHelpers: PodHelpers = {
  buildPodSandboxConfig: (pod, { logRoot }) => ({
    metadata: { name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "", namespace: pod.metadata.namespace ?? "default" },
    hostname: pod.metadata.name ?? "",
    logDirectory: `${logRoot}/${pod.metadata.namespace ?? "default"}_${pod.metadata.name ?? ""}_${pod.metadata.uid ?? ""}`,
    labels: {},
  }),
  generateContainerConfig: async ({ container, restartCount }) => ({
    config: { metadata: { name: container.name, attempt: restartCount }, image: { image: container.image ?? "" }, ...(container.command ? { command: container.command } : {}), logPath: `${container.name}/${restartCount}.log` },
    terminationMessageHostPath: "/nonexistent",
  }),
  writeEtcHosts: async () => "/nonexistent",
  setUpPodVolumes: async () => new Map(),
  tearDownPodVolumes: async () => {},
  computeContainerHash: (c) => createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 8),
  readTerminationMessage: async () => "",
};

export class FakeImages implements ImageManager, Pick<ImageService, "imageStatus"> {
  readonly pulls: string[] = [];
  fail: Record<string, { reason: "ErrImagePull" | "ErrImageNeverPull"; message: string }> = {};
  async ensureImageExists(req: EnsureImageRequest): Promise<EnsureImageResult> {
    const image = req.container.image ?? "";
    this.pulls.push(image);
    const f = this.fail[image];
    if (f) {
      req.record("Warning", "Failed", `Failed to pull image "${image}": ${f.message}`);
      return { ok: false, reason: f.reason, message: f.message };
    }
    req.record("Normal", "Pulled", `Container image "${image}" already present on machine`);
    return { ok: true, imageRef: "sha256:img", message: "" };
  }
  async imageStatus() {
    return { image: { id: "sha256:img", repoTags: [], repoDigests: [], size: 1, username: "", pinned: false }, info: {} };
  }
}
