/**
 * The kubelet's sync of one pod against the runtime (Kubelet.SyncPod + kuberuntime SyncPod,
 * kubelet-pods §0-§6): compute what to kill and start, make the sandbox, start init containers
 * one at a time and then the regular ones in spec order, each behind the crash-loop back-off,
 * with the kubelet's events and waiting reasons; and the two terminating steps.
 */
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Container, Pod, Secret } from "../api/index.js";
import type { Clock } from "../clock/index.js";
import type { ImageManager, ImageService } from "../images/index.js";
import type { MountedVolume, PodSandboxConfig, RuntimeService, VolumeSources } from "../runtime/index.js";
import type { Backoff } from "../concurrency/index.js";
import type { KubeClient } from "./client/index.js";
import { podRef, type EventRecorder, type EventType } from "./events/recorder.js";
import { formatPod, podLogDirName } from "./format.js";
import { runLifecycleHandler } from "./hooks.js";
import type { PodHelpers } from "./pod-helpers.js";
import type { ProbeResults } from "./prober/results.js";
import {
  ANNOTATION_TERMINATION_HOST_PATH, LABEL_CONTAINER_KIND, LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID,
  readPodRuntimeStatus, type PodRuntimeStatus, type RuntimeContainer,
} from "./runtime-state.js";
import { shouldContainerBeRestarted, type ReasonCacheEntry } from "./status/container-statuses.js";
import { formatGoDuration } from "../gofmt/index.js";
import { isSidecar } from "./status/phase.js";
import { errorMessage } from "../errdefs/index.js";
import { TerminationOrdering } from "./termination-order.js";

export interface SyncDeps {
  client: KubeClient;
  runtime: RuntimeService;
  imageService: ImageService;
  imageManager: ImageManager;
  helpers: PodHelpers;
  recorder: EventRecorder;
  crashBackoff: Backoff;
  probes: ProbeResults;
  clock: Clock;
  home: string;
  nodeName: string;
  nodeIP: string;
  sources: VolumeSources;
  log(msg: string): void;
}

interface KillAction { container: RuntimeContainer; spec?: Container; message: string; init: boolean }

export interface PodActions {
  killPod: boolean;
  createSandbox: boolean;
  attempt: number;
  sandboxId?: string;
  containersToKill: KillAction[];
  initToStart?: Container;
  containersToStart: { container: Container; init: boolean }[];
}

export interface SyncResult {
  /** A finished pod: go on to terminating. */
  terminal?: boolean;
  error?: string;
  /** Crash-loop back-off: try again at this time (ms). */
  backoffUntil?: number;
  /** Sync again no later than this time (ms): the volume wait's next attempt or its timeout. */
  retryAt?: number;
  /** The runtime status after the round, when the round read it or changed nothing (the caller need not read it again). */
  status?: PodRuntimeStatus;
}

/** WaitForAttachAndMount's timeout (2m3s) and the retry between attempts while it runs. */
export const MOUNT_WAIT_TIMEOUT_MS = 123_000;
const MOUNT_RETRY_MS = 10_000;

const newestOf = (rs: PodRuntimeStatus, name: string): RuntimeContainer | undefined => rs.containers.find((c) => c.name === name);

/** Per-pod state the sync keeps between rounds (the reason cache, mounted volumes, pull secrets warned of). */
export class PodSyncState {
  readonly reasons = new Map<string, ReasonCacheEntry>();
  /** Termination messages read from exited instances, by container ID. */
  readonly terminationMessages = new Map<string, string>();
  volumes?: Map<string, MountedVolume>;
  sandboxConfig?: PodSandboxConfig;
  /** When (ms) the current wait for the pod's volumes began. */
  mountWaitSince?: number;
}

export function computePodActions(pod: Pod, rs: PodRuntimeStatus, deps: { probes: ProbeResults; hash(c: Container): string }): PodActions {
  const spec = pod.spec;
  const policy = spec.restartPolicy ?? "Always";
  const deleting = !!pod.metadata.deletionTimestamp;
  const a: PodActions = { killPod: false, createSandbox: false, attempt: 0, containersToKill: [], containersToStart: [] };
  const sandbox = rs.sandboxes[0];
  if (!sandbox || sandbox.state !== "SANDBOX_READY") {
    a.createSandbox = true;
    a.killPod = rs.containers.some((c) => c.state === "CONTAINER_RUNNING");
    a.attempt = sandbox ? sandbox.attempt + 1 : 0;
    if (policy === "Never" && sandbox && rs.containers.length > 0) {
      // a Never pod whose sandbox went is not run again
      a.createSandbox = false;
      a.killPod = true;
      return a;
    }
    const inits = spec.initContainers ?? [];
    const regular = new Set(spec.containers.map((c) => c.name));
    const toStart: Container[] = [];
    for (const c of spec.containers) {
      const n = newestOf(rs, c.name);
      if (n && n.state === "CONTAINER_EXITED" && n.exitCode === 0 && policy === "OnFailure") continue;
      if (n && n.state === "CONTAINER_EXITED" && policy === "Never") continue;
      toStart.push(c);
    }
    if (rs.containers.some((c) => regular.has(c.name)) && toStart.length === 0) {
      // initialized and nothing left to run: no new sandbox
      a.createSandbox = false;
      a.killPod = true;
      return a;
    }
    if (inits.length > 0) {
      // a new sandbox starts from the beginning: the init containers run again
      a.initToStart = inits[0];
      return a;
    }
    a.containersToStart = toStart.map((container) => ({ container, init: false }));
    return a;
  }
  a.sandboxId = sandbox.id;
  a.attempt = sandbox.attempt;
  let keep = 0;
  // init containers (computeInitContainerActions)
  const inits = spec.initContainers ?? [];
  const regularNames = new Set(spec.containers.map((c) => c.name));
  // containers of an earlier sandbox do not say this one initialized (their init containers run again)
  const inSandbox = (c: RuntimeContainer): boolean => c.sandboxId === sandbox.id;
  const podHasInitialized = rs.containers.some((c) => regularNames.has(c.name) && (c.state === "CONTAINER_CREATED" || c.state === "CONTAINER_RUNNING" || (c.state === "CONTAINER_EXITED" && inSandbox(c))));
  let initialized = inits.length === 0 || podHasInitialized;
  if (!initialized) {
    let decided = false;
    for (let i = inits.length - 1; i >= 0 && !decided; i--) {
      const c = inits[i] as Container;
      const n = rs.containers.find((r) => r.name === c.name && inSandbox(r));
      if (!n) continue;
      decided = true;
      const next = inits[i + 1];
      const advance = (): void => {
        if (next) a.initToStart = next;
        else initialized = true;
      };
      if (isSidecar(c)) {
        if (n.state === "CONTAINER_RUNNING") {
          keep++;
          if (deps.probes.result(n.id, "startup") === "Failure" || deps.probes.result(n.id, "liveness") === "Failure") {
            const why = deps.probes.result(n.id, "startup") === "Failure" ? "startup" : "liveness";
            a.containersToKill.push({ container: n, spec: c, init: true, message: `Init container ${c.name} failed ${why} probe` });
            a.initToStart = c;
          } else if (c.startupProbe && deps.probes.result(n.id, "startup") !== "Success") {
            // wait for the sidecar to start
          } else advance();
        } else a.initToStart = c;
      } else if (n.state === "CONTAINER_RUNNING") {
        keep++;
      } else if (n.state === "CONTAINER_EXITED" && n.exitCode === 0 && n.reason !== "OOMKilled") {
        advance();
      } else if (n.state === "CONTAINER_EXITED" || n.state === "CONTAINER_UNKNOWN") {
        if (policy === "Never") {
          a.killPod = true;
          return a;
        }
        a.initToStart = c;
      } else a.initToStart = c;
    }
    if (!decided) a.initToStart = inits[0];
  }
  if (!initialized) {
    a.killPod = false;
    return a;
  }
  for (const c of inits.filter(isSidecar)) {
    const n = newestOf(rs, c.name);
    if (n?.state === "CONTAINER_RUNNING") keep++;
    else if (!deleting && (!a.initToStart || a.initToStart.name !== c.name)) a.containersToStart.push({ container: c, init: true });
  }
  for (const c of spec.containers) {
    const n = newestOf(rs, c.name);
    if (!n || n.state !== "CONTAINER_RUNNING") {
      if (shouldContainerBeRestarted(policy, n, deleting)) {
        if (n?.state === "CONTAINER_UNKNOWN") a.containersToKill.push({ container: n, spec: c, init: false, message: `Container is in "unknown" state, try killing it before restart` });
        a.containersToStart.push({ container: c, init: false });
      }
      continue;
    }
    let message: string | undefined;
    let restart = policy !== "Never";
    const hash = deps.hash(c);
    if (n.hash && hash && n.hash !== hash) {
      message = `Container ${c.name} definition changed`;
      restart = true;
    } else if (deps.probes.result(n.id, "liveness") === "Failure") message = `Container ${c.name} failed liveness probe`;
    else if (deps.probes.result(n.id, "startup") === "Failure") message = `Container ${c.name} failed startup probe`;
    if (!message) {
      keep++;
      continue;
    }
    if (restart) {
      message += ", will be restarted";
      a.containersToStart.push({ container: c, init: false });
    }
    a.containersToKill.push({ container: n, spec: c, init: false, message });
  }
  if (keep === 0 && a.containersToStart.length === 0 && !a.initToStart) a.killPod = true;
  return a;
}

export class PodSyncer {
  readonly #d: SyncDeps;

  constructor(deps: SyncDeps) {
    this.#d = deps;
  }

  podDir(uid: string): string {
    return join(this.#d.home, "kubelet", "pods", uid);
  }

  get logRoot(): string {
    return join(this.#d.home, "log", "pods");
  }

  #event(pod: Pod, c: { name: string; init?: boolean } | undefined, type: EventType, reason: string, message: string): void {
    this.#d.recorder.event(podRef(pod, c), type, reason, message);
  }

  /** The pod's pull secrets that can be read, warning of the ones that cannot. */
  async #pullSecrets(pod: Pod): Promise<Secret[]> {
    const names = (pod.spec.imagePullSecrets ?? []).map((s) => s.name ?? "").filter((n) => n !== "");
    const ns = pod.metadata.namespace ?? "default";
    const found: Secret[] = [];
    const missing: string[] = [];
    for (const name of names) {
      const s = await this.#d.client.get<Secret>(`/api/v1/namespaces/${ns}/secrets/${name}`).catch(() => undefined);
      if (s) found.push(s);
      else missing.push(name);
    }
    if (missing.length > 0) {
      this.#event(pod, undefined, "Warning", "FailedToRetrieveImagePullSecret", `Unable to retrieve some image pull secrets (${missing.join(", ")}); attempting to pull the image may not succeed.`);
    }
    return found;
  }

  async #killContainer(pod: Pod, k: KillAction, graceOverride?: number, ordering?: TerminationOrdering): Promise<void> {
    const name = k.container.name;
    this.#event(pod, { name, init: k.init }, "Normal", "Killing", k.message || `Stopping container ${name}`);
    let grace = graceOverride ?? pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    const probeGrace = k.spec?.livenessProbe?.terminationGracePeriodSeconds;
    if (graceOverride === undefined && pod.metadata.deletionGracePeriodSeconds === undefined && probeGrace !== undefined && /probe/.test(k.message)) grace = probeGrace;
    const preStop = k.spec?.lifecycle?.preStop;
    if (preStop && k.spec && grace > 0 && k.container.state === "CONTAINER_RUNNING") {
      const started = this.#d.clock.now();
      const r = await runLifecycleHandler(preStop, { runtime: this.#d.runtime, clock: this.#d.clock, containerId: k.container.id, sandboxId: k.container.sandboxId, container: k.spec, timeoutSeconds: grace });
      if (!r.ok) this.#event(pod, { name, init: k.init }, "Warning", "FailedPreStopHook", "PreStopHook failed");
      grace -= Math.floor((this.#d.clock.now() - started) / 1000);
    }
    // a sidecar's grace is what is left after the containers it outlives have stopped (whole seconds, rounded down)
    if (ordering && grace > 0) grace -= Math.floor(await ordering.waitForTurn(name, grace));
    grace = Math.max(grace, 2);
    await this.#d.runtime.stopContainer(k.container.id, grace);
    ordering?.containerTerminated(name);
  }

  /**
   * Stops every running container, then the sandboxes. All stops begin together; the sidecars wait
   * for the regular containers (and for the sidecars after them) within the same grace period.
   */
  async killPod(pod: Pod, rs: PodRuntimeStatus, graceOverride?: number): Promise<void> {
    const inits = new Set((pod.spec.initContainers ?? []).map((c) => c.name));
    const specOf = (n: string): Container | undefined => [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === n);
    const running = rs.containers.filter((c) => c.state === "CONTAINER_RUNNING" || c.state === "CONTAINER_CREATED");
    const ordering = new TerminationOrdering(pod, running.map((c) => c.name), this.#d.clock);
    const kill = (c: RuntimeContainer): Promise<void> => {
      const s = specOf(c.name);
      return this.#killContainer(pod, { container: c, ...(s ? { spec: s } : {}), init: inits.has(c.name), message: "" }, graceOverride, ordering).catch((err: unknown) => {
        this.#event(pod, undefined, "Warning", "FailedKillPod", `error killing pod: ${errorMessage(err)}`);
      });
    };
    await Promise.all(running.map(kill));
    for (const sb of rs.sandboxes) {
      if (sb.state === "SANDBOX_READY") await this.#d.runtime.stopPodSandbox(sb.id);
    }
  }

  /** One SyncPod round; `current` is the runtime status just read (read again only after changes). */
  async syncPod(pod: Pod, state: PodSyncState, readStatus: () => Promise<PodRuntimeStatus>, current?: PodRuntimeStatus): Promise<SyncResult> {
    const uid = pod.metadata.uid ?? "";
    const podDir = this.podDir(uid);
    await mkdir(join(podDir, "volumes"), { recursive: true });
    await mkdir(join(podDir, "containers"), { recursive: true });
    let rs = current ?? (await readStatus());
    const podIP = rs.sandboxes.find((s) => s.state === "SANDBOX_READY")?.ip ?? pod.status?.podIP;
    if (!state.volumes) {
      try {
        state.volumes = await this.#d.helpers.setUpPodVolumes({ pod, podDir, sources: this.#d.sources, nodeName: this.#d.nodeName, ...(podIP ? { podIP } : {}) });
      } catch (err) {
        // one event per volume that failed (VolumeSetUpError carries them all)
        const failures = (err as { failures?: unknown[] }).failures ?? [err];
        for (const f of failures) this.#event(pod, undefined, "Warning", "FailedMount", errorMessage(f));
        return this.#mountWaitFailed(pod, state, failures, errorMessage(err));
      }
      delete state.mountWaitSince;
    }
    const actions = computePodActions(pod, rs, { probes: this.#d.probes, hash: (c) => this.#d.helpers.computeContainerHash(c) });
    // whether this round changed anything in the runtime: a round that did not can keep `rs`
    let touched = actions.killPod || actions.containersToKill.length > 0 || actions.createSandbox;
    if (actions.killPod) {
      await this.killPod(pod, rs);
      if (!actions.createSandbox) return { terminal: true };
      rs = await readStatus();
    }
    for (const k of actions.containersToKill) {
      await this.#killContainer(pod, k).catch((err: unknown) => this.#d.log(`killing ${k.container.name} of ${formatPod(pod)}: ${errorMessage(err)}`));
    }
    let sandboxId = actions.sandboxId;
    let ip = podIP;
    const sandboxConfig = this.#d.helpers.buildPodSandboxConfig(pod, { logRoot: this.logRoot });
    sandboxConfig.metadata = { ...sandboxConfig.metadata, attempt: actions.attempt };
    sandboxConfig.labels = { ...sandboxConfig.labels, [LABEL_POD_UID]: uid, [LABEL_POD_NAME]: pod.metadata.name ?? "", [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? "default" };
    sandboxConfig.logDirectory ??= join(this.logRoot, podLogDirName(pod));
    if (actions.createSandbox) {
      if (rs.sandboxes.length > 0) this.#event(pod, undefined, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
      try {
        for (const sb of rs.sandboxes) if (sb.state === "SANDBOX_READY") await this.#d.runtime.stopPodSandbox(sb.id);
        await mkdir(sandboxConfig.logDirectory, { recursive: true, mode: 0o755 });
      sandboxId = await this.#d.runtime.runPodSandbox(sandboxConfig);
        const st = await this.#d.runtime.podSandboxStatus(sandboxId);
        ip = st.status.network?.ip || undefined;
        if (ip) await this.#d.helpers.writeEtcHosts(podDir, pod, ip);
      } catch (err) {
        this.#event(pod, undefined, "Warning", "FailedCreatePodSandBox", `Failed to create pod sandbox: ${errorMessage(err)}`);
        return { error: errorMessage(err) };
      }
      rs = await readStatus();
    }
    state.sandboxConfig = sandboxConfig;
    if (!sandboxId) return {};
    const needImages = actions.initToStart || actions.containersToStart.length > 0;
    const secrets = needImages ? await this.#pullSecrets(pod) : [];
    const ctx = { pod, state, sandboxId, sandboxConfig, ...(ip ? { podIP: ip } : {}), secrets, rs };
    if (actions.initToStart) {
      touched = true;
      const r = await this.#startContainer(ctx, actions.initToStart, "init", Promise.resolve()).done;
      if (r.error || r.backoffUntil) return r;
    }
    const errors: string[] = [];
    let backoffUntil: number | undefined;
    const collect = (r: SyncResult): void => {
      if (r.backoffUntil !== undefined) backoffUntil = Math.min(backoffUntil ?? Infinity, r.backoffUntil);
      else if (r.error) errors.push(r.error);
    };
    // The containers are pulled, created and started one after another in spec order, as the
    // kubelet does; only the next container's pull and create overlap the previous one's create
    // and start (the pull begins once the previous pull is done).
    // A sidecar, or a container with a postStart hook, is waited for before the next begins.
    let started: Promise<void> = Promise.resolve();
    let startedBefore: Promise<void> = Promise.resolve();
    for (const { container, init } of actions.containersToStart) {
      touched = true;
      // one container ahead at most: this one is prepared once the one two places back has started
      await startedBefore;
      const step = this.#startContainer(ctx, container, init ? "init" : "regular", started);
      await step.pulled;
      startedBefore = started;
      started = step.done.then(collect);
      if (init || container.lifecycle?.postStart) await started;
    }
    await started;
    let after = touched ? await readStatus() : rs;
    if (await this.#prune(pod, after)) after = await readStatus();
    const out: SyncResult = { status: after };
    if (errors.length > 0) out.error = errors.join("; ");
    if (backoffUntil !== undefined) out.backoffUntil = backoffUntil;
    return out;
  }

  /** The volumes are still not set up: retry, and once the wait has lasted 2m3s on the clock, say so (and start a new wait). */
  #mountWaitFailed(pod: Pod, state: PodSyncState, failures: unknown[], error: string): SyncResult {
    const now = this.#d.clock.now();
    state.mountWaitSince ??= now;
    const deadline = state.mountWaitSince + MOUNT_WAIT_TIMEOUT_MS;
    if (now < deadline) return { error, retryAt: Math.min(now + MOUNT_RETRY_MS, deadline) };
    delete state.mountWaitSince;
    const failed = new Set(failures.map((f) => (f as { volume?: unknown }).volume).filter((v): v is string => typeof v === "string"));
    const names = (pod.spec.volumes ?? []).map((v) => v.name).filter((n) => failed.has(n));
    for (const n of failed) if (!names.includes(n)) names.push(n);
    const list = `[${names.join(" ")}]`;
    const message = `Unable to attach or mount volumes: unmounted volumes=${list}, unattached volumes=${list}, failed to process volumes=[]: timed out waiting for the condition`;
    this.#event(pod, undefined, "Warning", "FailedMount", message);
    return { error: message };
  }

  /** Keeps the two newest instances of each regular container (state and lastState) and the newest of each init container; true when it removed one. */
  async #prune(pod: Pod, rs: PodRuntimeStatus): Promise<boolean> {
    let removed = false;
    const inits = new Set((pod.spec.initContainers ?? []).map((c) => c.name));
    const count = new Map<string, number>();
    for (const c of rs.containers) {
      const n = (count.get(c.name) ?? 0) + 1;
      count.set(c.name, n);
      const keep = inits.has(c.name) ? 1 : 2;
      if (n > keep && c.state !== "CONTAINER_RUNNING") {
        removed = true;
        await this.#d.runtime.removeContainer(c.id).catch(() => {});
      }
    }
    return removed;
  }

  async #restartCountFromLogs(dir: string): Promise<number> {
    const names = await readdir(dir).catch(() => [] as string[]);
    let max = -1;
    for (const n of names) {
      const m = /^(\d+)\.log$/.exec(n);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return max + 1;
  }

  /**
   * Starts one container (kuberuntime `startContainer`): `pulled` settles once its image is there
   * (or could not be); its config and the runtime's CreateContainer follow; the start then waits
   * for `before` (the previous container's start), and so do this container's events, which come
   * out in the kubelet's order. `done` is the result.
   */
  #startContainer(ctx: StartContext, c: Container, kind: "init" | "regular", before: Promise<void>): { pulled: Promise<unknown>; done: Promise<SyncResult> } {
    const ref = { name: c.name, init: kind === "init" };
    const held = holdUntil(before);
    const event = (type: EventType, reason: string, message: string): void => held(() => this.#event(ctx.pod, ref, type, reason, message));
    const pulled = this.#pullContainerImage(ctx, c, event);
    const done = (async (): Promise<SyncResult> => {
      const image = await pulled;
      const created = "imageRef" in image ? await this.#createContainer(ctx, c, kind, image, event) : image;
      await before;
      return "id" in created ? this.#runContainer(ctx, c, created.id, event) : created;
    })();
    return { pulled: pulled.catch(() => undefined), done };
  }

  /** A step of the start failed: the Failed event and the container's waiting reason. */
  #failed(ctx: StartContext, c: Container, event: EventFn, reason: string, message: string): SyncResult {
    event("Warning", "Failed", `Error: ${message}`);
    ctx.state.reasons.set(c.name, { reason, message });
    return { error: reason };
  }

  /** The crash-loop check and the image (EnsureImageExists). */
  async #pullContainerImage(ctx: StartContext, c: Container, event: EventFn): Promise<SyncResult | { imageRef: string; newest: ReturnType<typeof newestOf>; hash: string }> {
    const { pod, state } = ctx;
    const newest = newestOf(ctx.rs, c.name);
    const hash = this.#d.helpers.computeContainerHash(c);
    if (newest && newest.state === "CONTAINER_EXITED") {
      const key = `${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? "default"}_${pod.metadata.uid ?? ""}_${c.name}_${hash}`;
      const ts = newest.finishedAt;
      if (this.#d.crashBackoff.isInBackOffSince(key, ts)) {
        const b = this.#d.crashBackoff.get(key);
        event("Warning", "BackOff", `Back-off restarting failed container ${c.name} in pod ${formatPod(pod)}`);
        state.reasons.set(c.name, { reason: "CrashLoopBackOff", message: `back-off ${formatGoDuration(b)} restarting failed container=${c.name} pod=${formatPod(pod)}` });
        return { error: "CrashLoopBackOff", backoffUntil: ts + b };
      }
      this.#d.crashBackoff.next(key, ts);
    }
    const img = await this.#d.imageManager.ensureImageExists({
      pod, container: c, pullSecrets: ctx.secrets, sandboxConfig: ctx.sandboxConfig,
      record: (type, reason, message) => event(type, reason, message),
    });
    if (!img.ok) {
      event("Warning", "Failed", `Error: ${img.reason}`);
      state.reasons.set(c.name, { reason: img.reason, message: img.message });
      return { error: img.reason };
    }
    return { imageRef: img.imageRef, newest, hash };
  }

  /** The container's config and the runtime's CreateContainer (which begins the runtime's create). */
  async #createContainer(ctx: StartContext, c: Container, kind: "init" | "regular", image: { imageRef: string; newest: ReturnType<typeof newestOf>; hash: string }, event: EventFn): Promise<SyncResult | { id: string }> {
    const { pod, state } = ctx;
    const { newest, hash } = image;
    const img = { imageRef: image.imageRef };
    const logDirectory = ctx.sandboxConfig.logDirectory ?? join(this.logRoot, podLogDirName(pod));
    const restartCount = newest ? newest.restartCount + 1 : await this.#restartCountFromLogs(join(logDirectory, c.name));
    let gen;
    try {
      const st = await this.#d.imageService.imageStatus({ image: img.imageRef });
      const imageUser = { username: st.image?.username ?? "", ...(st.image?.uid ? { uid: st.image.uid.value } : {}) };
      await mkdir(join(logDirectory, c.name), { recursive: true, mode: 0o755 });
      gen = await this.#d.helpers.generateContainerConfig({
        pod, container: c, kind, restartCount, imageRef: img.imageRef, imageUser, volumes: state.volumes ?? new Map(),
        podDir: this.podDir(pod.metadata.uid ?? ""), ...(ctx.podIP ? { podIP: ctx.podIP } : {}), nodeName: this.#d.nodeName,
        nodeIP: this.#d.nodeIP, sources: this.#d.sources, logDirectory,
      });
    } catch (err) {
      return this.#failed(ctx, c, event, "CreateContainerConfigError", errorMessage(err));
    }
    const config = gen.config;
    config.labels = { ...config.labels, [LABEL_POD_UID]: pod.metadata.uid ?? "", [LABEL_POD_NAME]: pod.metadata.name ?? "", [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? "default", [LABEL_CONTAINER_NAME]: c.name, [LABEL_CONTAINER_KIND]: kind };
    config.annotations = { ...config.annotations, "io.kubernetes.container.restartCount": String(restartCount), "io.kubernetes.container.hash": hash, [ANNOTATION_TERMINATION_HOST_PATH]: gen.terminationMessageHostPath };
    let id: string;
    try {
      id = await this.#d.runtime.createContainer(ctx.sandboxId, config, ctx.sandboxConfig);
    } catch (err) {
      return this.#failed(ctx, c, event, "CreateContainerError", errorMessage(err));
    }
    event("Normal", "Created", `Created container: ${c.name}`);
    return { id };
  }

  /** StartContainer and the postStart hook. */
  async #runContainer(ctx: StartContext, c: Container, id: string, event: EventFn): Promise<SyncResult> {
    const { pod, state } = ctx;
    try {
      await this.#d.runtime.startContainer(id);
    } catch (err) {
      return this.#failed(ctx, c, event, "RunContainerError", errorMessage(err).replaceAll(id, c.name));
    }
    event("Normal", "Started", `Started container ${c.name}`);
    state.reasons.delete(c.name);
    const postStart = c.lifecycle?.postStart;
    if (postStart) {
      // the kubelet waits for postStart before it starts the next container
      const r = await runLifecycleHandler(postStart, { runtime: this.#d.runtime, clock: this.#d.clock, containerId: id, sandboxId: ctx.sandboxId, container: c, timeoutSeconds: 0 });
      if (!r.ok) {
        event("Warning", "FailedPostStartHook", "PostStartHook failed");
        event("Normal", "Killing", "FailedPostStartHook");
        await this.#d.runtime.stopContainer(id, Math.max(2, pod.spec.terminationGracePeriodSeconds ?? 30)).catch(() => {});
        state.reasons.set(c.name, { reason: "PostStartHookError", message: r.message.trim() });
        return { error: "PostStartHookError" };
      }
    }
    return {};
  }

  /** The pod's runtime status, with each exited instance's termination message joined to the runtime's (§2.3, §5.6). */
  async readStatus(pod: Pod, state: PodSyncState): Promise<PodRuntimeStatus> {
    const rs = await readPodRuntimeStatus(this.#d.runtime, pod.metadata.uid ?? "");
    const specs = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
    for (const c of rs.containers) {
      if (c.state !== "CONTAINER_EXITED" || !c.terminationMessageHostPath) continue;
      let tm = state.terminationMessages.get(c.id);
      if (tm === undefined) {
        const spec = specs.find((s) => s.name === c.name);
        tm = spec
          ? await this.#d.helpers.readTerminationMessage({ hostPath: c.terminationMessageHostPath, container: spec, exitCode: c.exitCode, reason: c.reason, logPath: c.logPath }).catch((err: unknown) => `Error on reading termination log ${c.terminationMessageHostPath ?? ""}: ${errorMessage(err)}`)
          : "";
        state.terminationMessages.set(c.id, tm);
      }
      if (tm) c.message = c.message ? `${c.message}: ${tm}` : tm;
    }
    const live = new Set(rs.containers.map((c) => c.id));
    for (const id of state.terminationMessages.keys()) if (!live.has(id)) state.terminationMessages.delete(id);
    return rs;
  }

  /** Stops the still running containers again with a shorter grace (at least 2 s), as a shortened deletion asks. */
  async shortenStop(pod: Pod, graceSeconds: number): Promise<void> {
    const rs = await readPodRuntimeStatus(this.#d.runtime, pod.metadata.uid ?? "");
    await Promise.all(rs.containers.filter((c) => c.state === "CONTAINER_RUNNING").map((c) => this.#d.runtime.stopContainer(c.id, Math.max(graceSeconds, 2))));
  }

  /** SyncTerminatingPod: stop everything with the pod's grace. */
  async syncTerminatingPod(pod: Pod, readStatus: () => Promise<PodRuntimeStatus>, graceOverride?: number): Promise<void> {
    await this.killPod(pod, await readStatus(), graceOverride);
  }

  /** SyncTerminatedPod: the volumes come down. */
  async syncTerminatedPod(pod: Pod, state: PodSyncState): Promise<void> {
    await this.#d.helpers.tearDownPodVolumes(this.podDir(pod.metadata.uid ?? ""));
    delete state.volumes;
  }

  /** The pod is gone from its source: its sandboxes, containers, pod dir and logs go too. */
  async removePod(pod: Pod, uid: string): Promise<void> {
    const rs = await readPodRuntimeStatus(this.#d.runtime, uid);
    for (const sb of rs.sandboxes) await this.#d.runtime.stopPodSandbox(sb.id).catch(() => {});
    for (const c of rs.containers) await this.#d.runtime.removeContainer(c.id).catch(() => {});
    for (const sb of rs.sandboxes) await this.#d.runtime.removePodSandbox(sb.id).catch(() => {});
    await this.#d.helpers.tearDownPodVolumes(this.podDir(uid)).catch(() => {});
    await rm(this.podDir(uid), { recursive: true, force: true });
    await rm(join(this.logRoot, podLogDirName(pod)), { recursive: true, force: true });
  }
}

/** What starting a pod's containers shares. */
interface StartContext { pod: Pod; state: PodSyncState; sandboxId: string; sandboxConfig: PodSandboxConfig; podIP?: string; secrets: Secret[]; rs: PodRuntimeStatus }

type EventFn = (type: EventType, reason: string, message: string) => void;

/** Holds emits, in order, until `prev` settles; after that they run at once. */
function holdUntil(prev: Promise<unknown>): (emit: () => void) => void {
  let open = false;
  const queue: (() => void)[] = [];
  const release = (): void => {
    open = true;
    for (const emit of queue.splice(0)) emit();
  };
  prev.then(release, release);
  return (emit) => {
    if (open) emit();
    else queue.push(emit);
  };
}
