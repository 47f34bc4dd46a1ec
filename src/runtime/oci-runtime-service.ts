/**
 * CRI's RuntimeService over crun or runc: sandboxes as nsfs namespace files, containers as
 * overlay rootfs + generated config.json + conmon-supervised runtime containers. Every sandbox
 * and container is a directory under $PODYARD_HOME/runtime with its record, so a restarted
 * podyard adopts running containers and keeps the status of exited ones.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants, existsSync, readFileSync, watch, type FSWatcher } from "node:fs";
import { mkdir, open, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { spawn } from "node:child_process";
import type { Duplex } from "node:stream";
import { realClock, type Clock } from "../clock/index.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PodyardError, UnavailableError, AbortedError } from "../errdefs/index.js";
import type { LocalImageService } from "../images/index.js";
import { ociArchitecture, type ImageConfig } from "../oci/index.js";
import type { Snapshotter } from "../store/index.js";
import { applyPodCgroupLimits, cgroupUsage, containerCgroupPath, oomKills, ownCgroupPath, ownProcsFile, removeCgroup, sandboxCgroupPath } from "./cgroups.js";
import { MigrationWarmth } from "./migration-warmth.js";
import { overlayChanges, withoutMountPoints, type Change } from "./container-diff.js";
import type {
  AttachRequest, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatusResponse, ExecRequest,
  ExecSyncResponse, PodSandbox, PodSandboxConfig, PodSandboxFilter, PodSandboxStatusResponse, RuntimeCondition,
  RuntimeService, StreamIO, VersionResponse,
} from "./cri.js";
import { followLog } from "./attach-log.js";
import { attachThroughSocket } from "./attach-socket.js";
import { execFailure, execWithPipes, execWithPty } from "./exec-streams.js";
import { forwardPort } from "./port-forward.js";
import { OciRuntime, type OciRuntimeName } from "./oci-runtime.js";
import { capabilitiesInMask, generateSpec, type OciMount, type OciSpec } from "./oci-spec.js";
import { runtimePaths, type RuntimePaths } from "./paths.js";
import { CONTAINER_FILE, readRecord, SANDBOX_FILE, writeRecord, type ContainerRecord, type SandboxRecord } from "./records.js";
import { runTool } from "./run-tool.js";
import { createNamespaces, destroyNamespaces, mountsUnder, namespaceFiles, sandboxShm, unmount } from "./sandbox-ns.js";
import { mountRootfs } from "./rootfs.js";
import { resolveUser } from "./user.js";

export interface OciRuntimeServiceOptions {
  home: string;
  runtime?: OciRuntimeName;
  images: LocalImageService;
  snapshotter: Snapshotter;
  clock?: Clock;
}

const ns = (ms: number): string => (BigInt(Math.round(ms)) * 1_000_000n).toString();
const EXIT_POLL_MS = 20;

function matchesLabels(labels: Record<string, string>, selector: Record<string, string> | undefined): boolean {
  return Object.entries(selector ?? {}).every(([k, v]) => labels[k] === v);
}

/** Real-time pause for polling the runtime's own files (never the injected clock: that is for periods users see). */
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class OciRuntimeService implements RuntimeService {
  readonly #paths: RuntimePaths;
  readonly #oci: OciRuntime;
  readonly #images: LocalImageService;
  readonly #snapshotter: Snapshotter;
  readonly #clock: Clock;
  readonly #sandboxes = new Map<string, SandboxRecord>();
  readonly #containers = new Map<string, ContainerRecord>();
  /** One pending exit bookkeeping per container, so concurrent readers record it once. */
  readonly #finishing = new Map<string, Promise<void>>();
  /** conmon's PID by container, read once from its pid file. */
  readonly #conmonPids = new Map<string, number>();
  /**
   * The runtime's `create` (conmon and `crun create`, the slow half of a start) of containers
   * created but not yet started: begun by CreateContainer so that it runs while the kubelet
   * prepares the pod's next container, and awaited by StartContainer, which reports its failure
   * (as containerd does, whose task create happens at start: StartError, RunContainerError).
   */
  readonly #creating = new Map<string, Promise<void>>();
  #ownCgroup = "/";
  /** Warms the kernel's cgroup-migration lock while containers are made or exec'd (migration-warmth.ts). */
  #warmth: MigrationWarmth | undefined;
  #hostCaps: string[] = [];
  /** Without CAP_SYS_RESOURCE no process may lower its oom_score_adj below ours (containerd's restrict_oom_score_adj). */
  #minOomScoreAdj: number | undefined;
  #watcher: FSWatcher | undefined;
  #ipLock: Promise<unknown> = Promise.resolve();

  constructor(opts: OciRuntimeServiceOptions) {
    const name = opts.runtime ?? "crun";
    this.#paths = runtimePaths(opts.home, name);
    this.#oci = new OciRuntime(name, this.#paths);
    this.#images = opts.images;
    this.#snapshotter = opts.snapshotter;
    this.#clock = opts.clock ?? realClock;
  }

  /** Finds the runtime, then recovers: adopts running containers, records exits, removes half-made sandboxes and containers. */
  async init(): Promise<void> {
    await mkdir(this.#paths.sandboxes, { recursive: true });
    await mkdir(this.#paths.containers, { recursive: true });
    await this.#oci.init();
    this.#ownCgroup = await ownCgroupPath();
    this.#warmth = new MigrationWarmth(await ownProcsFile());
    const status = await readFile("/proc/self/status", "utf8");
    this.#hostCaps = capabilitiesInMask(/CapBnd:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0");
    if (!capabilitiesInMask(/CapEff:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0").includes("CAP_SYS_RESOURCE")) {
      this.#minOomScoreAdj = Number((await readFile("/proc/self/oom_score_adj", "utf8")).trim()) || 0;
    }
    for (const id of await readdir(this.#paths.sandboxes)) {
      const dir = this.#paths.sandbox(id);
      const rec = await readRecord<SandboxRecord>(dir, SANDBOX_FILE);
      if (!rec) {
        await destroyNamespaces(dir);
        // the pod cgroup a pids limit made before the record was written
        await removeCgroup(sandboxCgroupPath(this.#ownCgroup, id));
        await this.#removeTree(dir);
        continue;
      }
      if (rec.state === "SANDBOX_READY" && (await mountsUnder(join(dir, "ns"))).length < 3) rec.state = "SANDBOX_NOTREADY";
      this.#sandboxes.set(id, rec);
    }
    for (const id of await readdir(this.#paths.containers)) {
      const dir = this.#paths.container(id);
      const rec = await readRecord<ContainerRecord>(dir, CONTAINER_FILE);
      if (!rec || !this.#sandboxes.has(rec.sandboxId)) {
        await this.#oci.delete(id, true).catch(() => undefined);
        await unmount(join(dir, "rootfs"));
        await this.#snapshotter.remove(rec?.snapshotKey ?? `podyard/container/${id}`).catch(() => undefined);
        if (rec) await removeCgroup(rec.cgroupsPath);
        await rm(this.#oci.exitFile(id), { force: true });
        await rm(join(this.#paths.root, "sockets", id), { recursive: true, force: true });
        await this.#removeTree(dir);
        continue;
      }
      this.#containers.set(id, rec);
      if (rec.phase === "created") {
        // podyard died between the runtime's create and the record of the start
        const st = await this.#oci.state(id).catch(() => undefined);
        if (st?.status === "running") {
          rec.phase = "running";
          rec.startedAt = ns(this.#clock.now());
          await this.#save(rec);
        } else if (st) await this.#oci.delete(id, true).catch(() => undefined);
      }
      if (rec.phase === "running") await this.#refresh(rec);
    }
    this.#watchExits();
  }

  /** Stops watching for exits (the containers keep running under conmon). */
  close(): void {
    this.#watcher?.close();
    this.#warmth?.stop();
    this.#watcher = undefined;
  }

  #watchExits(): void {
    try {
      this.#watcher = watch(this.#paths.exits, (_event, file) => {
        const rec = file ? this.#containers.get(file.toString()) : undefined;
        if (rec?.phase === "running") void this.#refresh(rec).catch(() => undefined);
      });
      this.#watcher.unref();
    } catch {
      // without inotify, exits are recorded when asked for
    }
  }

  async version(): Promise<VersionResponse> {
    const { stdout } = await runTool(this.#oci.name, ["--version"]);
    const v = /version\s+(\S+)/.exec(stdout)?.[1] ?? "unknown";
    return { version: "0.1.0", runtimeName: "podyard", runtimeVersion: `${this.#oci.name} ${v}`, runtimeApiVersion: "v1" };
  }

  async status(): Promise<{ conditions: RuntimeCondition[] }> {
    return {
      conditions: [
        { type: "RuntimeReady", status: true, reason: "", message: "" },
        { type: "NetworkReady", status: true, reason: "", message: "" },
      ],
    };
  }

  // ---- sandboxes ----

  async runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string> {
    // the containers' creates come next: their cgroup moves find the lock warm
    this.#warmth?.touch();
    const id = randomBytes(32).toString("hex");
    const dir = this.#paths.sandbox(id);
    const hostname = config.hostname || config.metadata.name;
    const writes: Promise<unknown>[] = [];
    try {
      await mkdir(dir, { recursive: true });
      const ip = await this.#allocateIp(id);
      const rec: SandboxRecord = {
        id, metadata: config.metadata, state: "SANDBOX_READY", createdAt: ns(this.#clock.now()), hostname,
        ...(config.logDirectory !== undefined ? { logDirectory: config.logDirectory } : {}),
        ...(config.dnsConfig !== undefined ? { dnsConfig: config.dnsConfig } : {}),
        labels: config.labels ?? {}, annotations: config.annotations ?? {},
        ...(runtimeHandler ? { runtimeHandler } : {}),
        ip,
      };
      // The files the containers bind, and the record, are written while the namespaces are made
      // (all must succeed). A crash before the namespaces are pinned leaves a READY record whose
      // namespaces recovery does not find: it loads the sandbox as NOTREADY.
      writes.push(
        writeFile(join(dir, "hostname"), `${hostname}\n`),
        resolvConf(config.dnsConfig).then((text) => writeFile(join(dir, "resolv.conf"), text)),
        writeRecord(dir, SANDBOX_FILE, rec),
      );
      const written = Promise.all(writes);
      written.catch(() => undefined); // awaited below, after the namespaces
      await createNamespaces(dir, hostname, ip);
      await this.#applyPodLimits(id, config);
      await written;
      this.#sandboxes.set(id, rec);
      return id;
    } catch (err) {
      await Promise.allSettled(writes); // none may land once the directory is removed
      this.#sandboxes.delete(id);
      await removeCgroup(sandboxCgroupPath(this.#ownCgroup, id)).catch(() => undefined);
      await destroyNamespaces(dir).catch(() => undefined);
      await this.#removeTree(dir).catch(() => undefined);
      throw wrap(err, `failed to create pod sandbox for ${config.metadata.namespace}/${config.metadata.name}`);
    }
  }

  /** The pod-level cgroup limits (the kubelet's podPidsLimit comes as the sandbox's linux.resources.pidsLimit). */
  async #applyPodLimits(id: string, config: PodSandboxConfig): Promise<void> {
    const pidsLimit = config.linux?.resources?.pidsLimit;
    if (pidsLimit !== undefined) await applyPodCgroupLimits(this.#ownCgroup, sandboxCgroupPath(this.#ownCgroup, id), { pidsLimit });
  }

  /** The lowest free 10.88.x.y, taken under a lock so concurrent sandboxes never share one. */
  async #allocateIp(id: string): Promise<string> {
    const run = this.#ipLock.then(() => {
      const used = new Set([...this.#sandboxes.values()].map((s) => s.ip));
      for (let n = 2; n < 65534; n++) {
        const ip = `10.88.${n >> 8}.${n & 255}`;
        if ((n & 255) === 0 || (n & 255) === 255 || used.has(ip)) continue;
        // reserve it at once: the record is complete only later
        this.#sandboxes.set(id, { ip } as SandboxRecord);
        return ip;
      }
      throw new UnavailableError("no free pod IP left in 10.88.0.0/16");
    });
    this.#ipLock = run.catch(() => undefined);
    return run;
  }

  async stopPodSandbox(podSandboxId: string): Promise<void> {
    const sb = this.#sandboxes.get(podSandboxId);
    if (!sb) return;
    await Promise.all([...this.#containers.values()].filter((c) => c.sandboxId === podSandboxId).map((c) => this.stopContainer(c.id, 0)));
    // with the namespaces goes the shm (containerd unmounts it on stop: every container is gone)
    await destroyNamespaces(this.#paths.sandbox(podSandboxId));
    if (sb.state !== "SANDBOX_NOTREADY") {
      sb.state = "SANDBOX_NOTREADY";
      await writeRecord(this.#paths.sandbox(podSandboxId), SANDBOX_FILE, sb);
    }
  }

  async removePodSandbox(podSandboxId: string): Promise<void> {
    if (!this.#sandboxes.has(podSandboxId)) return;
    await this.stopPodSandbox(podSandboxId);
    for (const c of [...this.#containers.values()]) if (c.sandboxId === podSandboxId) await this.removeContainer(c.id);
    await removeCgroup(sandboxCgroupPath(this.#ownCgroup, podSandboxId));
    await this.#removeTree(this.#paths.sandbox(podSandboxId));
    this.#sandboxes.delete(podSandboxId);
  }

  #sandbox(id: string): SandboxRecord {
    const sb = this.#sandboxes.get(id);
    if (!sb || sb.metadata === undefined) throw new NotFoundError(`pod sandbox ${id} not found`);
    return sb;
  }

  async podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatusResponse> {
    const sb = this.#sandbox(podSandboxId);
    return {
      status: {
        id: sb.id, metadata: sb.metadata, state: sb.state, createdAt: BigInt(sb.createdAt),
        network: { ip: sb.ip, additionalIps: [] },
        linux: { namespaces: { options: { network: "POD", pid: "CONTAINER", ipc: "POD" } } },
        labels: sb.labels, annotations: sb.annotations,
        ...(sb.runtimeHandler ? { runtimeHandler: sb.runtimeHandler } : {}),
      },
      info: {},
    };
  }

  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    return [...this.#sandboxes.values()]
      .filter((s) => s.metadata !== undefined)
      .filter((s) => (filter?.id ? s.id.startsWith(filter.id) : true))
      .filter((s) => (filter?.state ? s.state === filter.state.state : true))
      .filter((s) => matchesLabels(s.labels, filter?.labelSelector))
      .map((s) => ({
        id: s.id, metadata: s.metadata, state: s.state, createdAt: BigInt(s.createdAt), labels: s.labels, annotations: s.annotations,
        ...(s.runtimeHandler ? { runtimeHandler: s.runtimeHandler } : {}),
      }));
  }

  // ---- containers ----

  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const sb = this.#sandbox(podSandboxId);
    if (sb.state !== "SANDBOX_READY") throw new FailedPreconditionError(`pod sandbox ${podSandboxId} is not ready`);
    this.#warmth?.touch();
    const name = config.metadata.name;
    const found = (() => {
      try {
        return this.#images.find(config.image.image);
      } catch (err) {
        throw wrap(err, `failed to create container ${name}: image ${config.image.image}`);
      }
    })();
    const details = await this.#images.details(found.record.configDigest);
    const imageConfig: ImageConfig = details.config;
    const arch = ociArchitecture();
    if (imageConfig.os !== "linux" || imageConfig.architecture !== arch) {
      throw new FailedPreconditionError(`image with reference ${config.image.image} was found but does not match the specified platform: wanted linux/${arch}, actual: ${imageConfig.os}/${imageConfig.architecture}`);
    }
    const id = randomBytes(32).toString("hex");
    const dir = this.#paths.container(id);
    const rootfs = join(dir, "rootfs");
    const snapshotKey = `podyard/container/${id}`;
    let prepared = false;
    try {
      await mkdir(rootfs, { recursive: true });
      const mounts = await this.#snapshotter.prepare(snapshotKey, found.record.chainID, { labels: { "podyard.container": id } });
      prepared = true;
      const { upper, lowers } = await mountRootfs(mounts, rootfs);

      const sc = config.linux?.securityContext;
      const user = await resolveUser(rootfs, imageConfig.config?.User, {
        ...(sc?.runAsUser !== undefined ? { runAsUser: sc.runAsUser.value } : {}),
        ...(sc?.runAsGroup !== undefined ? { runAsGroup: sc.runAsGroup.value } : {}),
        ...(sc?.runAsUsername ? { runAsUsername: sc.runAsUsername } : {}),
        ...(sc?.supplementalGroups ? { supplementalGroups: sc.supplementalGroups } : {}),
      });
      const sbDir = this.#paths.sandbox(podSandboxId);
      const extraMounts: OciMount[] = [
        { destination: "/etc/hostname", type: "bind", source: join(sbDir, "hostname"), options: ["rbind", "rprivate", sc?.readonlyRootfs ? "ro" : "rw"] },
        { destination: "/etc/resolv.conf", type: "bind", source: join(sbDir, "resolv.conf"), options: ["rbind", "rprivate", sc?.readonlyRootfs ? "ro" : "rw"] },
        // the pod's one shm, writable even under a read-only rootfs (as containerd binds it)
        { destination: "/dev/shm", type: "bind", source: sandboxShm(sbDir), options: ["rbind", "rprivate", "rw"] },
      ];
      for (const mnt of config.mounts ?? []) {
        if (mnt.tmpfs) continue;
        await stat(mnt.hostPath).catch(() => {
          throw new InvalidArgumentError(`failed to create container ${name}: mount source ${mnt.hostPath} for ${mnt.containerPath} does not exist`);
        });
      }
      const cgroupsPath = containerCgroupPath(this.#ownCgroup, podSandboxId, id);
      const spec = generateSpec({
        config, image: imageConfig.config, hostname: sb.hostname, rootfs, user,
        namespaces: namespaceFiles(sbDir), cgroupsPath, extraMounts, hostCapabilities: this.#hostCaps,
        ...(this.#minOomScoreAdj !== undefined ? { minOomScoreAdj: this.#minOomScoreAdj } : {}),
      });
      await writeFile(join(dir, "config.json"), JSON.stringify(spec, null, 2));
      const repoDigest = this.#images.repoDigests(found.record.configDigest)[0];
      // the status names the image as containerd's does: its first repo tag, else what was asked for
      const repoTag = this.#images.list().find((r) => r.configDigest === found.record.configDigest && r.name !== r.configDigest && !r.name.includes("@"))?.name;
      const logDir = sandboxConfig.logDirectory ?? sb.logDirectory;
      const rec: ContainerRecord = {
        id, sandboxId: podSandboxId, metadata: config.metadata, image: repoTag !== undefined ? { ...config.image, image: repoTag } : config.image,
        imageId: found.record.configDigest, imageRef: repoDigest ?? found.record.configDigest,
        labels: config.labels ?? {}, annotations: config.annotations ?? {}, mounts: config.mounts ?? [],
        logPath: logDir && config.logPath ? join(logDir, config.logPath) : join(dir, "container.log"),
        phase: "created", createdAt: ns(this.#clock.now()), startedAt: "0", finishedAt: "0", exitCode: 0, reason: "", message: "",
        snapshotKey, ...(upper !== undefined ? { upper } : {}), lowers,
        env: spec.process.env, cwd: spec.process.cwd, user: `${user.uid}:${user.gid}`,
        stopSignal: config.stopSignal || imageConfig.config?.StopSignal || "SIGTERM",
        tty: config.tty === true, stdin: config.stdin === true, stdinOnce: config.stdinOnce === true, cgroupsPath,
        mountPoints: spec.mounts.map((mt) => mt.destination),
      };
      // the runtime's create begins while the record is written; a record that cannot be written
      // takes the half-made container with it
      const creating = this.#runtimeCreate(rec);
      creating.catch(() => undefined); // reported by startContainer
      try {
        await this.#save(rec);
      } catch (err) {
        await creating.catch(() => undefined);
        await this.#oci.delete(id, true).catch(() => undefined);
        await removeCgroup(cgroupsPath).catch(() => undefined);
        throw err;
      }
      this.#containers.set(id, rec);
      this.#creating.set(id, creating);
      return id;
    } catch (err) {
      await unmount(rootfs).catch(() => undefined);
      if (prepared) await this.#snapshotter.remove(snapshotKey).catch(() => undefined);
      await this.#removeTree(dir).catch(() => undefined);
      throw wrap(err, `failed to create container ${name}`);
    }
  }

  #container(id: string): ContainerRecord {
    const c = this.#containers.get(id);
    if (!c) throw new NotFoundError(`container ${id} not found`);
    return c;
  }

  async #save(rec: ContainerRecord, opts: { sync?: boolean } = {}): Promise<void> {
    await writeRecord(this.#paths.container(rec.id), CONTAINER_FILE, rec, opts);
  }

  /** The runtime's create of a recorded container under conmon: its process waits for the start. */
  async #runtimeCreate(rec: ContainerRecord): Promise<void> {
    await mkdir(dirname(rec.logPath), { recursive: true, mode: 0o755 });
    await rm(this.#oci.exitFile(rec.id), { force: true });
    await this.#oci.create(rec.id, this.#paths.container(rec.id), rec.logPath, { tty: rec.tty, stdin: rec.stdin, stdinOnce: rec.stdinOnce === true });
  }

  /** Waits for a create begun by CreateContainer, so nothing removes a container the runtime is still creating. */
  async #settleCreate(id: string): Promise<void> {
    await this.#creating.get(id)?.catch(() => undefined);
  }

  async startContainer(containerId: string): Promise<void> {
    const rec = this.#container(containerId);
    if (rec.phase !== "created") throw new FailedPreconditionError(`container ${containerId} is not in created state: ${rec.phase}`);
    const sb = this.#sandbox(rec.sandboxId);
    if (sb.state !== "SANDBOX_READY") throw new FailedPreconditionError(`pod sandbox ${rec.sandboxId} of container ${containerId} is not ready`);
    // a container whose runtime create was not begun here (recorded by an agent before a restart) is created now
    const creating = this.#creating.get(containerId) ?? this.#runtimeCreate(rec);
    try {
      try {
        await creating;
      } finally {
        this.#creating.delete(containerId);
      }
      await this.#oci.start(containerId);
    } catch (err) {
      const message = (err as Error).message;
      await this.#oci.delete(containerId, true).catch(() => undefined);
      await removeCgroup(rec.cgroupsPath);
      const now = ns(this.#clock.now());
      Object.assign(rec, { phase: "exited", startedAt: now, finishedAt: now, exitCode: 128, reason: "StartError", message });
      await this.#save(rec);
      throw new UnavailableError(message, { cause: err });
    }
    rec.phase = "running";
    rec.startedAt = ns(this.#clock.now());
    // not fsynced (the next container's start waits for this one): a kill -9 keeps it, and a power
    // cut that loses it leaves "created", which recovery turns into running from the runtime's state
    await this.#save(rec, { sync: false });
    // an exit before the record said running went unnoticed by the watcher
    await this.#refresh(rec);
  }

  /** Records the exit of a running container once conmon wrote its exit file. */
  #refresh(rec: ContainerRecord): Promise<void> {
    if (rec.phase !== "running") return Promise.resolve();
    const pending = this.#finishing.get(rec.id);
    if (pending) return pending;
    // the usual answer (no exit file yet, conmon still there) from three quick syscalls, without
    // the thread pool: the relist asks this of every container every second
    if (!existsSync(this.#oci.exitFile(rec.id)) && this.#conmonAliveSync(rec.id)) return Promise.resolve();
    const run = (async () => {
      let code = await this.#exitCode(rec.id);
      if (code === undefined) {
        if (await this.#conmonAlive(rec.id)) return;
        // conmon writes the exit file before it exits: read it again now that conmon is gone
        code = await this.#exitCode(rec.id);
      }
      if (code === undefined) {
        // conmon gone without an exit file (killed with the machine): the runtime says whether it still runs
        const st = await this.#oci.state(rec.id).catch(() => undefined);
        if (st?.status === "running") return;
        code = 255;
      }
      const oom = (await oomKills(rec.cgroupsPath)) > 0;
      rec.phase = "exited";
      rec.exitCode = code;
      // the exit file's time is the exit's (it may be long before an agent restart saw it), unless the clock runs behind it (a FakeClock)
      const exitedAt = (await stat(this.#oci.exitFile(rec.id)).catch(() => undefined))?.mtimeMs ?? Infinity;
      const finished = BigInt(ns(Math.min(this.#clock.now(), exitedAt)));
      rec.finishedAt = (finished > BigInt(rec.startedAt) ? finished : BigInt(rec.startedAt)).toString();
      rec.reason = oom ? "OOMKilled" : code === 0 ? "Completed" : "Error";
      await this.#save(rec);
      await this.#oci.delete(rec.id, true).catch(() => undefined);
      await removeCgroup(rec.cgroupsPath);
    })().finally(() => this.#finishing.delete(rec.id));
    this.#finishing.set(rec.id, run);
    return run;
  }

  async #exitCode(id: string): Promise<number | undefined> {
    const text = (await readFile(this.#oci.exitFile(id), "utf8").catch(() => "")).trim();
    return text !== "" && Number.isInteger(Number(text)) ? Number(text) : undefined;
  }

  /** #conmonAlive without promises; false may be wrong (an unreadable pid file): the caller then takes the slow path. */
  #conmonAliveSync(id: string): boolean {
    let pid = this.#conmonPids.get(id);
    if (pid === undefined) {
      try {
        pid = Number(readFileSync(join(this.#paths.container(id), "conmon.pid"), "utf8").trim());
      } catch {
        return false;
      }
      if (!pid) return false;
      this.#conmonPids.set(id, pid);
    }
    try {
      process.kill(pid, 0);
      // a reused PID is some other process
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(id);
    } catch {
      return false;
    }
  }

  async #conmonAlive(id: string): Promise<boolean> {
    const pid = Number((await readFile(join(this.#paths.container(id), "conmon.pid"), "utf8").catch(() => "")).trim());
    if (!pid) return false;
    try {
      process.kill(pid, 0);
      const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      return cmd.includes(id);
    } catch {
      return false;
    }
  }

  async #waitExit(rec: ContainerRecord, signal?: AbortSignal): Promise<void> {
    while (rec.phase === "running" && !signal?.aborted) {
      await this.#refresh(rec);
      if (rec.phase !== "running") return;
      await pause(EXIT_POLL_MS);
    }
  }

  async stopContainer(containerId: string, timeout: number): Promise<void> {
    const rec = this.#container(containerId);
    if (rec.phase === "created") {
      // a created container's process waits for its start: ended, it is created again if started later
      await this.#settleCreate(containerId);
      this.#creating.delete(containerId);
      await this.#oci.delete(containerId, true).catch(() => undefined);
      return;
    }
    await this.#refresh(rec);
    if (rec.phase !== "running") return;
    const kill = async (sig: string): Promise<void> => {
      await this.#oci.kill(containerId, sig).catch(async (err: unknown) => {
        await this.#refresh(rec);
        if (rec.phase === "running") throw err;
      });
    };
    if (timeout > 0) {
      await kill(rec.stopSignal);
      const ac = new AbortController();
      const exited = this.#waitExit(rec, ac.signal).then(() => true);
      const grace = this.#clock.sleep(timeout * 1000, ac.signal).then(() => false, () => false);
      const done = await Promise.race([exited, grace]);
      ac.abort();
      if (done) return;
    }
    await kill("SIGKILL");
    await this.#waitExit(rec);
  }

  async removeContainer(containerId: string): Promise<void> {
    const rec = this.#containers.get(containerId);
    if (!rec) return;
    await this.#settleCreate(containerId);
    this.#creating.delete(containerId);
    if (rec.phase === "running") await this.stopContainer(containerId, 0);
    // an exited container was deleted from the runtime when its exit was recorded
    if (rec.phase === "created") await this.#oci.delete(containerId, true).catch(() => undefined);
    const dir = this.#paths.container(containerId);
    await unmount(join(dir, "rootfs"));
    await this.#snapshotter.remove(rec.snapshotKey).catch(() => undefined);
    await removeCgroup(rec.cgroupsPath);
    await rm(this.#oci.exitFile(containerId), { force: true });
    // conmon's attach-socket directory for the container
    await rm(join(this.#paths.root, "sockets", containerId), { recursive: true, force: true });
    await this.#removeTree(dir);
    this.#containers.delete(containerId);
    this.#conmonPids.delete(containerId);
  }

  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const out: Container[] = [];
    for (const c of [...this.#containers.values()]) {
      // what the record alone decides first: only a container that may match has its exit looked at
      if (filter?.id && !c.id.startsWith(filter.id)) continue;
      if (filter?.podSandboxId && c.sandboxId !== filter.podSandboxId) continue;
      if (!matchesLabels(c.labels, filter?.labelSelector)) continue;
      await this.#refresh(c);
      if (filter?.state && criState(c) !== filter.state.state) continue;
      out.push({
        id: c.id, podSandboxId: c.sandboxId, metadata: c.metadata, image: c.image, imageRef: c.imageId,
        state: criState(c), createdAt: BigInt(c.createdAt), labels: c.labels, annotations: c.annotations,
      });
    }
    return out;
  }

  async containerStatus(containerId: string): Promise<ContainerStatusResponse> {
    const c = this.#container(containerId);
    await this.#refresh(c);
    return {
      status: {
        id: c.id, metadata: c.metadata, state: criState(c), createdAt: BigInt(c.createdAt), startedAt: BigInt(c.startedAt),
        finishedAt: BigInt(c.finishedAt), exitCode: c.exitCode, image: c.image, imageRef: c.imageRef, reason: c.reason,
        message: c.message, labels: c.labels, annotations: c.annotations, mounts: c.mounts, logPath: c.logPath,
      },
      info: {},
    };
  }

  /** What the container's writable layer added, changed and deleted (`docker diff`). */
  async containerDiff(containerId: string): Promise<Change[]> {
    const c = this.#container(containerId);
    if (c.upper === undefined) return [];
    const merged = join(this.#paths.container(containerId), "rootfs");
    const mounted = (await mountsUnder(merged)).includes(merged);
    return withoutMountPoints(await overlayChanges(c.upper, c.lowers, mounted ? merged : undefined), c.mountPoints ?? []);
  }

  #running(containerId: string): ContainerRecord {
    const c = this.#container(containerId);
    if (c.phase !== "running") throw new FailedPreconditionError(`container ${containerId} is not running`);
    return c;
  }

  async execSync(containerId: string, cmd: string[], timeout: number): Promise<ExecSyncResponse> {
    const c = this.#container(containerId);
    await this.#refresh(c);
    this.#running(containerId);
    this.#warmth?.touch(); // crun exec moves the process into the container's cgroup
    const pidFile = join(this.#paths.container(containerId), `exec-${randomBytes(6).toString("hex")}.pid`);
    const processFile = await this.#execProcess(containerId, cmd, false);
    const args = this.#oci.execArgs(containerId, processFile, { tty: false, pidFile });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const child = spawn(this.#oci.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (d: Buffer) => stdout.push(d));
    child.stderr.on("data", (d: Buffer) => stderr.push(d));
    const exited = new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, sig) => resolve(code ?? (sig ? 137 : 1)));
    });
    const ac = new AbortController();
    try {
      const result = timeout > 0
        ? await Promise.race([exited, this.#clock.sleep(timeout * 1000, ac.signal).then(() => undefined, () => undefined)])
        : await exited;
      if (result === undefined) {
        const pid = await execPid(pidFile, exited);
        if (pid > 0) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
        child.kill("SIGKILL");
        await exited.catch(() => undefined);
        throw new AbortedError(`command "${cmd.join(" ")}" timed out after ${timeout}s`);
      }
      const failure = execFailure(result, Buffer.concat(stderr).toString("utf8"));
      if (failure !== undefined && stdout.length === 0) throw new UnavailableError(failure);
      return { stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode: result };
    } finally {
      ac.abort();
      await rm(pidFile, { force: true });
      await rm(processFile, { force: true });
    }
  }

  async exec(req: ExecRequest, io: StreamIO): Promise<number> {
    const c = this.#container(req.containerId);
    await this.#refresh(c);
    this.#running(req.containerId);
    this.#warmth?.touch();
    const processFile = await this.#execProcess(req.containerId, req.cmd, req.tty);
    const args = this.#oci.execArgs(req.containerId, processFile, { tty: req.tty });
    const streams: StreamIO = {
      tty: req.tty,
      ...(req.stdin && io.stdin ? { stdin: io.stdin } : {}),
      ...(req.stdout && io.stdout ? { stdout: io.stdout } : {}),
      ...(req.stderr && io.stderr ? { stderr: io.stderr } : {}),
      ...(io.resize ? { resize: io.resize } : {}),
    };
    try {
      return await (req.tty ? execWithPty(this.#oci.binary, args, streams) : execWithPipes(this.#oci.binary, args, streams));
    } finally {
      await rm(processFile, { force: true });
    }
  }

  /** The container's process (user, env, cwd, capabilities…) with `cmd` as args, written for `exec --process`. */
  async #execProcess(containerId: string, cmd: readonly string[], tty: boolean): Promise<string> {
    if (cmd.length === 0) throw new InvalidArgumentError("exec needs a command");
    const dir = this.#paths.container(containerId);
    const spec = JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as OciSpec;
    const file = join(dir, `exec-${randomBytes(6).toString("hex")}.json`);
    await writeFile(file, JSON.stringify({ ...spec.process, args: cmd, terminal: tty }));
    return file;
  }

  /**
   * stdin to a container made with stdin: conmon's attach socket (attach-socket.ts), both ways.
   * Output only (attach-log.ts): the container's output from its log file, as it grows, until it
   * exits or the client leaves (a client without stdin then never closes a stdinOnce container's stdin).
   */
  async attach(req: AttachRequest, io: StreamIO): Promise<void> {
    const c = this.#running(req.containerId);
    if (c.stdin && req.stdin) {
      await attachThroughSocket(this.#paths.container(c.id), req, io);
      return;
    }
    await followLog(c.logPath, req, io, async () => {
      await this.#refresh(c);
      return c.phase === "running";
    });
  }

  async reopenContainerLog(containerId: string): Promise<void> {
    const c = this.#running(containerId);
    // conmon's control fifo: message type 2 reopens the log file
    const ctl = join(this.#paths.container(c.id), "ctl");
    // non-blocking: with conmon gone there is no reader, and a plain open would wait forever
    const fh = await open(ctl, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK).catch((err: unknown) => {
      throw new FailedPreconditionError(`failed to reopen the log of container ${containerId}: ${(err as Error).message}`);
    });
    try {
      await fh.write("2 0 0\n");
    } finally {
      await fh.close();
    }
  }

  async portForward(podSandboxId: string, port: number): Promise<Duplex> {
    const sb = this.#sandbox(podSandboxId);
    if (sb.state !== "SANDBOX_READY") throw new FailedPreconditionError(`pod sandbox ${podSandboxId} is not ready`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InvalidArgumentError(`invalid port ${port}`);
    return forwardPort(namespaceFiles(this.#paths.sandbox(podSandboxId)).net, port);
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const c = this.#container(containerId);
    await this.#refresh(c);
    const ts = BigInt(ns(this.#clock.now()));
    const usage = c.phase === "running" ? await cgroupUsage(c.cgroupsPath) : {};
    const layer = await this.#snapshotter.usage(c.snapshotKey).catch(() => undefined);
    return {
      attributes: { id: c.id, metadata: c.metadata, labels: c.labels, annotations: c.annotations },
      cpu: { timestamp: ts, ...(usage.cpuNanos !== undefined ? { usageCoreNanoSeconds: { value: usage.cpuNanos } } : {}) },
      memory: {
        timestamp: ts,
        ...(usage.workingSet !== undefined ? { workingSetBytes: { value: usage.workingSet } } : {}),
        ...(usage.memoryUsage !== undefined ? { usageBytes: { value: usage.memoryUsage } } : {}),
      },
      writableLayer: { timestamp: ts, ...(layer ? { usedBytes: { value: layer.size } } : {}) },
    };
  }

  async listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]> {
    const list = await this.listContainers(filter);
    return Promise.all(list.map((c) => this.containerStats(c.id)));
  }

  /** Removes a state directory, refusing while anything is still mounted below it. */
  async #removeTree(dir: string): Promise<void> {
    const left = await mountsUnder(dir);
    for (const m of left) await unmount(m);
    if ((await mountsUnder(dir)).length > 0) throw new FailedPreconditionError(`cannot remove ${dir}: still mounted`);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The exec'd process's PID from the runtime's --pid-file; a loaded host may time out before the
 * runtime wrote it, so wait for it (real time, at most 2 s) while the runtime still runs.
 */
async function execPid(pidFile: string, exited: Promise<unknown>): Promise<number> {
  let gone = false;
  void exited.finally(() => { gone = true; }).catch(() => undefined);
  for (let waited = 0; ; waited += 10) {
    const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
    if (pid > 0 || gone || waited >= 2000) return pid;
    await pause(10);
  }
}

function criState(c: ContainerRecord): Container["state"] {
  return c.phase === "created" ? "CONTAINER_CREATED" : c.phase === "running" ? "CONTAINER_RUNNING" : "CONTAINER_EXITED";
}

/** The pod's resolv.conf: dnsConfig when given, else the host's. */
async function resolvConf(dns: PodSandboxConfig["dnsConfig"]): Promise<string> {
  if (dns && (dns.servers.length > 0 || dns.searches.length > 0 || dns.options.length > 0)) {
    return [
      ...(dns.searches.length > 0 ? [`search ${dns.searches.join(" ")}`] : []),
      ...dns.servers.map((s) => `nameserver ${s}`),
      ...(dns.options.length > 0 ? [`options ${dns.options.join(" ")}`] : []),
    ].join("\n") + "\n";
  }
  return readFile("/etc/resolv.conf", "utf8").catch(() => "");
}

/** Keeps a PodyardError's class and adds what was being done; anything else becomes Unavailable. */
function wrap(err: unknown, what: string): PodyardError {
  if (err instanceof PodyardError) {
    if (err.message.startsWith(what) || err.message === "no command specified") return err;
    const Class = err.constructor as new (m: string, o?: ErrorOptions) => PodyardError;
    return new Class(`${what}: ${err.message}`, { cause: err });
  }
  return new UnavailableError(`${what}: ${(err as Error).message}`, { cause: err });
}


