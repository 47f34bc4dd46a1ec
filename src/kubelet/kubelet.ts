/**
 * The kubelet: registers the node, renews its lease, watches the pods bound to it (and the static
 * pods of a manifest folder), runs one worker per pod, relists the runtime every second so state
 * changes trigger syncs, and writes statuses and events — all through the Kubernetes API and the
 * CRI interfaces only. A new Kubelet over the same runtime adopts what an old one left running.
 */
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { ConfigMap, Lease, Node, NodeCondition, Pod, PodStatus, Secret } from "../api/index.js";
import { realClock, type Clock } from "../clock/index.js";
import { sleepUnlessAborted } from "./sleep.js";
import type { ImageManager, ImageService } from "../images/index.js";
import { parseQuantity } from "../api/index.js";
import { ContainerLogManager, type RuntimeService, type VolumeSources } from "../runtime/index.js";
import { defaultPodHelpers } from "./default-helpers.js";
import type { Backoff } from "../concurrency/index.js";
import { newCrashLoopBackOff } from "./crash-backoff.js";
import { isApiStatus, Reflector, type KubeClient } from "./client/index.js";
import { EventRecorder, podRef } from "./events/recorder.js";
import { formatPod, podLogDirName } from "./format.js";
import { buildLease, buildNode } from "./node-status.js";
import type { PodHelpers } from "./pod-helpers.js";
import { PodSyncer } from "./pod-sync.js";
import { PodWorker } from "./pod-worker.js";
import { ProbeManager } from "./prober/manager.js";
import { LABEL_POD_UID, readPodRuntimeStatus, type PodRuntimeStatus } from "./runtime-state.js";
import { StaticPodSource, MIRROR_ANNOTATION } from "./static-pods.js";
import { activeDeadlineAt, DEADLINE_EXCEEDED_MESSAGE, DEADLINE_EXCEEDED_REASON, pastActiveDeadline } from "./status/active-deadline.js";
import { generatePodStatus, isTerminalPhase, terminatePodStatus } from "./status/generate.js";
import { StatusManager } from "./status/status-manager.js";
import { errorMessage } from "../errdefs/index.js";
import { EVICTED_REASON, EvictionManager, EVICTION_MONITORING_INTERVAL_MS, IMMEDIATE_EVICTION_GRACE_SECONDS } from "./eviction/index.js";

export interface KubeletOptions {
  client: KubeClient;
  nodeName: string;
  runtime: RuntimeService;
  imageService: ImageService;
  imageManager: ImageManager;
  home: string;
  clock?: Clock;
  /** Static pods (staticPodPath): their mirror pods appear in the API. */
  podManifestPath?: string;
  /** Default 127.0.0.1. */
  nodeIP?: string;
  /** Written in node.status.daemonEndpoints; default 10250. */
  kubeletPort?: number;
  nodeLabels?: Record<string, string>;
  containerLogMaxSize?: string | number;
  containerLogMaxFiles?: number;
  /** containerLogMonitorInterval in ms (default 10 s). */
  containerLogMonitorIntervalMs?: number;
  /** Container config and volumes; default: the container-config and volumes parts (defaultPodHelpers). */
  helpers?: PodHelpers;
  /** Image garbage collection, run every 5 min (the images part's ImageGCManager; build it with `imagesInUse`). */
  imageGC?: { garbageCollect(): Promise<unknown> };
  /**
   * podPidsLimit (--pod-max-pids): the most processes each pod may have, set as pids.max on the
   * pod's cgroup and shared by its containers; -1 (the default) is unlimited.
   */
  podPidsLimit?: number;
  /** Where the agent's messages go (default stderr). */
  log?: (msg: string) => void;
}

/** The helpers with every sandbox config carrying the pod pids limit (the pod cgroup manager's part of the kubelet). */
function withPodPidsLimit(helpers: PodHelpers, limit: number | undefined): PodHelpers {
  if (limit === undefined || limit <= 0) return helpers;
  // delegating (not spreading): the helpers may be a class instance
  return {
    buildPodSandboxConfig: (pod, o) => {
      const c = helpers.buildPodSandboxConfig(pod, o);
      return { ...c, linux: { ...c.linux, resources: { ...c.linux?.resources, pidsLimit: limit } } };
    },
    generateContainerConfig: (i) => helpers.generateContainerConfig(i),
    writeEtcHosts: (d, p, ip) => helpers.writeEtcHosts(d, p, ip),
    setUpPodVolumes: (o) => helpers.setUpPodVolumes(o),
    tearDownPodVolumes: (d) => helpers.tearDownPodVolumes(d),
    computeContainerHash: (c) => helpers.computeContainerHash(c),
    readTerminationMessage: (i) => helpers.readTerminationMessage(i),
  };
}

export type LookupError = { error: { code: number; reason: string; message: string } };

function specAndMeta(pod: Pod): string {
  const { resourceVersion: _rv, managedFields: _mf, ...meta } = pod.metadata;
  return JSON.stringify([meta, pod.spec]);
}

const nodeLeasePath = (n: string): string => `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${n}`;

export class Kubelet {
  readonly #o: KubeletOptions;
  readonly #clock: Clock;
  readonly #nodeIP: string;
  readonly #client: KubeClient;
  readonly #recorder: EventRecorder;
  readonly #status: StatusManager;
  readonly #backoff: Backoff;
  readonly #probes: ProbeManager;
  readonly #syncer: PodSyncer;
  readonly #helpers: PodHelpers;
  readonly #logs: ContainerLogManager;
  readonly #workers = new Map<string, PodWorker>();
  /** API pods by UID (mirror pods are kept apart: they only carry a static pod's status). */
  readonly #mirrors = new Map<string, Pod>();
  readonly #abort = new AbortController();
  readonly #loops: Promise<void>[] = [];
  readonly #log: (msg: string) => void;
  #reflector?: Reflector<Pod>;
  #static?: StaticPodSource;
  #startedMs = 0;
  #nodeConditions: NodeCondition[] = [];
  #lastRelist = new Map<string, string>();
  #sourcesReady = false;
  readonly #eviction: EvictionManager;
  /** Pods the eviction manager evicted, with the message their Failed status carries. */
  readonly #evicted = new Map<string, string>();

  constructor(opts: KubeletOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? realClock;
    this.#nodeIP = opts.nodeIP ?? "127.0.0.1";
    this.#client = opts.client;
    this.#log = opts.log ?? ((m) => process.stderr.write(`kubelet: ${m}\n`));
    const onError = (err: unknown): void => this.#log(errorMessage(err));
    this.#recorder = new EventRecorder({ client: opts.client, host: opts.nodeName, clock: this.#clock, onError });
    this.#status = new StatusManager({ client: opts.client, onError });
    this.#backoff = newCrashLoopBackOff(this.#clock);
    this.#probes = new ProbeManager({
      runtime: opts.runtime, clock: this.#clock, recorder: this.#recorder,
      onResult: (uid) => this.#workers.get(uid)?.kick(),
    });
    const sources: VolumeSources = {
      getConfigMap: (ns, name) => this.#getOptional<ConfigMap>(`/api/v1/namespaces/${ns}/configmaps/${name}`),
      getSecret: (ns, name) => this.#getOptional<Secret>(`/api/v1/namespaces/${ns}/secrets/${name}`),
    };
    this.#helpers = withPodPidsLimit(opts.helpers ?? defaultPodHelpers({ clock: this.#clock, nodeIP: this.#nodeIP }), opts.podPidsLimit);
    this.#logs = new ContainerLogManager({
      runtime: opts.runtime, clock: this.#clock,
      maxSize: parseQuantity(opts.containerLogMaxSize ?? "10Mi"), maxFiles: opts.containerLogMaxFiles ?? 5,
      ...(opts.containerLogMonitorIntervalMs ? { monitorIntervalMs: opts.containerLogMonitorIntervalMs } : {}),
      onError: (id, err) => this.#log(`rotating the log of container ${id}: ${err.message}`),
    });
    this.#eviction = new EvictionManager({
      activePods: () => this.#activePods(),
      evict: (pod, message) => this.#evict(pod, message),
      event: (pod, message) => this.#recorder.event(podRef(pod), "Warning", EVICTED_REASON, message),
      log: this.#log,
    });
    this.#syncer = new PodSyncer({
      client: opts.client, runtime: opts.runtime, imageService: opts.imageService, imageManager: opts.imageManager,
      helpers: this.#helpers, recorder: this.#recorder, crashBackoff: this.#backoff, probes: this.#probes, clock: this.#clock,
      home: opts.home, nodeName: opts.nodeName, nodeIP: this.#nodeIP, sources, log: this.#log,
    });
  }

  #activePods(): { pod: Pod; podDir: string; isStatic: boolean }[] {
    return [...this.#workers.values()]
      .filter((w) => w.phase === "sync" && !w.gone && !w.pod.metadata.deletionTimestamp && !this.#evicted.has(w.uid) && !isTerminalPhase(this.#status.get(w.uid)?.phase))
      .map((w) => ({ pod: w.pod, podDir: this.#syncer.podDir(w.uid), isStatic: w.isStatic }));
  }

  /** TerminatePodAbnormallyAndWait for an eviction: the worker stops the pod and writes Failed/Evicted. */
  #evict(pod: Pod, message: string): void {
    const w = this.#workers.get(pod.metadata.uid ?? "");
    if (!w) return;
    this.#log(`evicting ${formatPod(pod)}: ${message}`);
    this.#evicted.set(w.uid, message);
    w.kick();
  }

  async #getOptional<T extends ConfigMap | Secret>(path: string): Promise<T | undefined> {
    try {
      return await this.#client.get<T>(path);
    } catch (err) {
      if (isApiStatus(err, 404)) return undefined;
      throw err;
    }
  }

  #kubeletPort: number | undefined;

  /** The port the kubelet's server really listens on (when it was started on port 0 after this object was made); call before start(). */
  setKubeletPort(port: number): void {
    this.#kubeletPort = port;
  }

  get runtime(): RuntimeService {
    return this.#o.runtime;
  }

  get recorder(): EventRecorder {
    return this.#recorder;
  }

  async start(): Promise<void> {
    this.#startedMs = this.#clock.now();
    await this.#registerNode();
    await this.#renewLease().catch((err: unknown) => this.#log(`renewing lease: ${errorMessage(err)}`));
    const signal = this.#abort.signal;
    this.#loops.push(this.#every(10_000, () => this.#renewLease()));
    this.#loops.push(this.#every(10_000, () => this.#updateNodeStatus()));
    this.#reflector = new Reflector<Pod>({
      client: this.#client, path: "/api/v1/pods", query: { fieldSelector: `spec.nodeName=${this.#o.nodeName}` }, clock: this.#clock,
      onError: (err) => this.#log(`watching pods: ${errorMessage(err)}`),
      handler: {
        onAdd: (p) => this.#apiPod(p),
        onUpdate: (p) => this.#apiPod(p),
        onDelete: (p) => this.#apiPodGone(p),
      },
    });
    this.#loops.push(this.#reflector.run(signal));
    if (this.#o.podManifestPath) {
      this.#static = new StaticPodSource({
        dir: this.#o.podManifestPath, nodeName: this.#o.nodeName, clock: this.#clock, log: this.#log,
        onAdd: (p) => this.#staticPod(p), onUpdate: (p) => this.#staticPod(p), onRemove: (p) => this.#staticPodGone(p),
      });
      await this.#static.scan();
      this.#loops.push(this.#every(20_000, () => this.#static?.scan() ?? Promise.resolve()));
    }
    await this.#reflector.waitForSync();
    this.#sourcesReady = true;
    await this.#housekeeping().catch((err: unknown) => this.#log(`housekeeping: ${errorMessage(err)}`));
    this.#loops.push(this.#every(1_000, () => this.#relist()));
    this.#loops.push(this.#every(2_000, () => this.#housekeeping()));
    this.#logs.start();
    this.#loops.push(this.#every(EVICTION_MONITORING_INTERVAL_MS, () => this.#eviction.synchronize()));
    const gc = this.#o.imageGC;
    if (gc) this.#loops.push(this.#every(300_000, () => gc.garbageCollect()));
  }

  /** The image IDs some container (running or exited) uses: image GC must keep them. */
  async imagesInUse(): Promise<Set<string>> {
    const ctrs = await this.#o.runtime.listContainers();
    const out = new Set<string>();
    for (const c of ctrs) {
      if (c.imageRef) out.add(c.imageRef);
      if (c.image.image) out.add(c.image.image);
    }
    return out;
  }

  /**
   * For `podyard down`: stops the kubelet, then stops every pod's containers (with their grace,
   * at most `maxGraceSeconds`) and removes the sandboxes, keeping the logs and the API's objects.
   */
  async stopAndRemoveAllPods(maxGraceSeconds = 30): Promise<void> {
    const pods = new Map([...this.#workers.values()].map((w) => [w.uid, w.pod]));
    await this.stop();
    const boxes = await this.#o.runtime.listPodSandbox();
    const uids = new Set(boxes.map((b) => b.labels[LABEL_POD_UID]).filter((u): u is string => !!u));
    await Promise.all([...uids].map(async (uid) => {
      const b = boxes.find((x) => x.labels[LABEL_POD_UID] === uid);
      const pod: Pod = pods.get(uid) ?? { metadata: { name: b?.metadata.name ?? "", namespace: b?.metadata.namespace ?? "default", uid }, spec: { containers: [] } };
      const grace = Math.min(maxGraceSeconds, pod.spec.terminationGracePeriodSeconds ?? 30);
      const rs = await readPodRuntimeStatus(this.#o.runtime, uid);
      await this.#syncer.killPod(pod, rs, grace).catch((err: unknown) => this.#log(`stopping ${formatPod(pod)}: ${errorMessage(err)}`));
      for (const sb of rs.sandboxes) await this.#o.runtime.removePodSandbox(sb.id).catch((err: unknown) => this.#log(`removing sandbox of ${formatPod(pod)}: ${errorMessage(err)}`));
      await this.#helpers.tearDownPodVolumes(this.#syncer.podDir(uid)).catch(() => {});
    }));
    await this.#recorder.flush();
  }

  /** Stops the workers and loops; containers are left running for the next kubelet to adopt. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#logs.stop();
    this.#probes.stop();
    await Promise.all([...this.#workers.values()].map((w) => w.stop()));
    await Promise.allSettled(this.#loops);
    await this.#recorder.flush();
  }

  #every(ms: number, fn: () => Promise<unknown>): Promise<void> {
    const signal = this.#abort.signal;
    return (async () => {
      while (!signal.aborted) {
        if (!(await sleepUnlessAborted(this.#clock, ms, signal))) return;
        await fn().catch((err: unknown) => this.#log(errorMessage(err)));
      }
    })();
  }

  // ---- node

  #node(): Node {
    return buildNode({
      nodeName: this.#o.nodeName, nodeIP: this.#nodeIP, kubeletPort: this.#kubeletPort ?? this.#o.kubeletPort ?? 10250, home: this.#o.home,
      labels: this.#o.nodeLabels ?? {}, runtimeVersion: this.#runtimeVersion, nowMs: this.#clock.now(), startedMs: this.#startedMs,
      old: this.#nodeConditions,
    });
  }

  #runtimeVersion = "0.1.0";

  async #registerNode(): Promise<void> {
    this.#runtimeVersion = await this.#o.runtime.version().then((v) => v.runtimeVersion).catch(() => "0.1.0");
    const node = this.#node();
    this.#nodeConditions = node.status?.conditions ?? [];
    this.#lastNodeReport = this.#clock.now();
    this.#lastNodeShape = JSON.stringify({ ...node.status, conditions: node.status?.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
    try {
      await this.#client.create("/api/v1/nodes", node);
    } catch (err) {
      if (!isApiStatus(err, 409)) throw err;
      await this.#client.patch(`/api/v1/nodes/${this.#o.nodeName}`, { metadata: { labels: node.metadata.labels } }, "strategic");
      await this.#client.patch(`/api/v1/nodes/${this.#o.nodeName}/status`, { status: node.status }, "merge");
    }
  }

  /** Patches the node's status when it changed, and at least every 5 min (nodeStatusReportFrequency) as the heartbeat. */
  async #updateNodeStatus(): Promise<void> {
    const node = this.#node();
    const now = this.#clock.now();
    const shape = JSON.stringify({ ...node.status, conditions: node.status?.conditions?.map((c) => ({ ...c, lastHeartbeatTime: undefined })) });
    if (shape === this.#lastNodeShape && now - this.#lastNodeReport < 300_000) return;
    await this.#client.patch(`/api/v1/nodes/${this.#o.nodeName}/status`, { status: node.status }, "merge");
    this.#nodeConditions = node.status?.conditions ?? [];
    this.#lastNodeShape = shape;
    this.#lastNodeReport = now;
  }

  #lastNodeShape = "";
  #lastNodeReport = 0;

  async #renewLease(): Promise<void> {
    const path = nodeLeasePath(this.#o.nodeName);
    let old: Lease | undefined;
    try {
      old = await this.#client.get<Lease>(path);
    } catch (err) {
      if (!isApiStatus(err, 404)) throw err;
    }
    const lease = buildLease(this.#o.nodeName, this.#clock.now(), old);
    if (old) await this.#client.update(path, lease);
    else await this.#client.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease);
  }

  // ---- pod sources

  #apiPod(pod: Pod): void {
    if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      const prev = this.#mirrors.get(key);
      this.#mirrors.set(key, pod);
      if (prev?.metadata.uid !== pod.metadata.uid) {
        const sp = this.#static?.byName(pod.metadata.namespace ?? "default", pod.metadata.name ?? "");
        const w = sp ? this.#workers.get(sp.metadata.uid ?? "") : undefined;
        if (w) {
          this.#status.invalidate(w.uid);
          w.kick();
        }
      }
      return;
    }
    this.#upsert(pod, false);
  }

  #apiPodGone(pod: Pod): void {
    if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) {
      this.#mirrors.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
      const sp = this.#static?.byName(pod.metadata.namespace ?? "default", pod.metadata.name ?? "");
      if (sp) void this.#static?.ensureMirror(sp, this.#client).catch(() => {});
      return;
    }
    const w = this.#workers.get(pod.metadata.uid ?? "");
    if (!w) return;
    w.gone = true;
    w.kick();
  }

  #staticPod(pod: Pod): void {
    this.#upsert(pod, true);
    void this.#static?.ensureMirror(pod, this.#client).catch((err: unknown) => this.#log(`mirror pod of ${formatPod(pod)}: ${errorMessage(err)}`));
  }

  #staticPodGone(pod: Pod): void {
    const w = this.#workers.get(pod.metadata.uid ?? "");
    if (w) {
      w.gone = true;
      w.kick();
    }
    void this.#static?.deleteMirror(pod, this.#client).catch(() => {});
  }

  #upsert(pod: Pod, isStatic: boolean): void {
    const uid = pod.metadata.uid ?? "";
    const w = this.#workers.get(uid);
    if (w) {
      // our own status writes come back as updates: only a change of spec or metadata is news
      const news = specAndMeta(w.pod) !== specAndMeta(pod);
      const oldGrace = w.pod.metadata.deletionGracePeriodSeconds;
      const newGrace = pod.metadata.deletionGracePeriodSeconds;
      if (news) w.update(pod);
      else w.pod = pod;
      // a shorter grace period while the pod is being stopped cuts the stop short (it may only decrease)
      if (w.phase === "terminating" && oldGrace !== undefined && newGrace !== undefined && newGrace < oldGrace) {
        void this.#syncer.shortenStop(pod, newGrace).catch((err: unknown) => this.#log(`stopping ${formatPod(pod)}: ${errorMessage(err)}`));
      }
      return;
    }
    if (this.#abort.signal.aborted) return;
    const nw = new PodWorker(pod, this.#clock, isStatic);
    this.#workers.set(uid, nw);
    this.#status.seed(uid, this.#statusKey(nw), isStatic ? undefined : pod.status);
    nw.start((x) => this.#step(x));
  }

  #statusKey(w: PodWorker): { namespace: string; name: string; apiUid?: string } {
    const ns = w.pod.metadata.namespace ?? "default";
    const name = w.pod.metadata.name ?? "";
    if (w.isStatic) {
      const m = this.#mirrors.get(`${ns}/${name}`);
      return { namespace: ns, name, ...(m?.metadata.uid ? { apiUid: m.metadata.uid } : {}) };
    }
    return { namespace: ns, name, apiUid: w.uid };
  }

  // ---- the worker's steps

  #generate(w: PodWorker, rs: PodRuntimeStatus, podIsTerminal: boolean): PodStatus {
    const old = this.#status.get(w.uid) ?? (w.isStatic ? this.#mirrors.get(`${w.pod.metadata.namespace}/${w.pod.metadata.name}`)?.status : w.pod.status) ?? {};
    const apiPhase = w.isStatic ? undefined : w.pod.status?.phase;
    const base = isTerminalPhase(apiPhase) && !isTerminalPhase(old.phase) ? { ...old, phase: apiPhase } : old;
    // a pod that already finished keeps its phase, reason and message
    const evictedWith = isTerminalPhase(base.phase) ? undefined : this.#evicted.get(w.uid);
    const pastDeadline = evictedWith === undefined && !isTerminalPhase(base.phase) && this.#pastDeadline(w);
    if (pastDeadline) this.#recorder.event(podRef(w.pod), "Normal", DEADLINE_EXCEEDED_REASON, DEADLINE_EXCEEDED_MESSAGE);
    const evict = evictedWith !== undefined ? { reason: EVICTED_REASON, message: evictedWith }
      : pastDeadline ? { reason: DEADLINE_EXCEEDED_REASON, message: DEADLINE_EXCEEDED_MESSAGE } : undefined;
    return generatePodStatus({
      pod: w.pod, runtime: rs, old: base, reasons: w.state.reasons, probes: this.#probes, nodeIP: this.#nodeIP,
      podIsTerminal, nowMs: this.#clock.now(), ...(evict ? { evict } : {}),
    });
  }

  /** The start time the kubelet knows (its own last status, else the API's), for the active deadline. */
  #startTime(w: PodWorker): string | undefined {
    return this.#status.get(w.uid)?.startTime ?? w.pod.status?.startTime;
  }

  /** activeDeadlineHandler.ShouldEvict: the pod ran on the node longer than spec.activeDeadlineSeconds. */
  #pastDeadline(w: PodWorker): boolean {
    return pastActiveDeadline(w.pod, this.#startTime(w), this.#clock.now());
  }

  async #setStatus(w: PodWorker, st: PodStatus): Promise<void> {
    await this.#status.set(w.uid, this.#statusKey(w), st);
  }

  async #step(w: PodWorker): Promise<number> {
    try {
      return await this.#stepInner(w);
    } catch (err) {
      this.#log(`syncing ${formatPod(w.pod)}: ${errorMessage(err)}`);
      this.#recorder.event({ kind: "Pod", namespace: w.pod.metadata.namespace ?? "default", name: w.pod.metadata.name ?? "", uid: w.uid, apiVersion: "v1" }, "Warning", "FailedSync", `error determining status: ${errorMessage(err)}`);
      return 10_000;
    }
  }

  async #stepInner(w: PodWorker): Promise<number> {
    const read = (): Promise<PodRuntimeStatus> => this.#syncer.readStatus(w.pod, w.state);
    switch (w.phase) {
      case "sync": {
        if (w.pod.metadata.deletionTimestamp || w.gone || this.#evicted.has(w.uid)) {
          w.phase = "terminating";
          return 0;
        }
        const before = await read();
        let st = this.#generate(w, before, false);
        // not awaited: the status manager sends it before any later status of the pod, and the
        // sync need not wait an API round trip before it makes the sandbox
        void this.#setStatus(w, st);
        if (isTerminalPhase(st.phase) || this.#pastDeadline(w)) {
          w.phase = "terminating";
          return 0;
        }
        const r = await this.#syncer.syncPod(w.pod, w.state, read, before);
        this.#probes.addPod(w.pod);
        st = this.#generate(w, r.status ?? (await read()), false);
        await this.#setStatus(w, st);
        if (isTerminalPhase(st.phase) || this.#pastDeadline(w) || this.#evicted.has(w.uid)) {
          w.phase = "terminating";
          return 0;
        }
        let delay = r.backoffUntil !== undefined ? Math.min(60_000, Math.max(0, r.backoffUntil - this.#clock.now())) : r.error ? 10_000 : 60_000;
        if (r.retryAt !== undefined) delay = Math.min(delay, Math.max(0, r.retryAt - this.#clock.now()));
        // the sync loop looks at the active deadline every second: wake when it passes
        const deadline = activeDeadlineAt(w.pod, this.#startTime(w));
        if (deadline !== undefined) delay = Math.min(delay, Math.max(0, deadline - this.#clock.now()));
        return delay;
      }
      case "terminating": {
        // SyncTerminatingPod: the status is written first (phase unchanged), then the containers are stopped
        await this.#setStatus(w, this.#generate(w, await read(), false));
        this.#probes.removePod(w.uid);
        // an evicted pod gets the eviction's grace, not its own
        const grace = this.#evicted.has(w.uid) && !w.pod.metadata.deletionTimestamp ? IMMEDIATE_EVICTION_GRACE_SECONDS : undefined;
        await this.#syncer.syncTerminatingPod(w.pod, read, grace);
        const st = this.#generate(w, await read(), true);
        await this.#setStatus(w, st);
        w.phase = "terminated";
        return 0;
      }
      case "terminated": {
        await this.#syncer.syncTerminatedPod(w.pod, w.state);
        const cur = this.#status.get(w.uid);
        if (cur) await this.#setStatus(w, terminatePodStatus(cur));
        w.phase = "finished";
        return 0;
      }
      case "finished": {
        if (w.gone) {
          await this.#syncer.removePod(w.pod, w.uid);
          this.#status.forget(w.uid);
          this.#workers.delete(w.uid);
          this.#evicted.delete(w.uid);
          return -1;
        }
        if (w.pod.metadata.deletionTimestamp && !w.deleteSent && !w.isStatic) {
          w.deleteSent = true;
          await this.#status.deletePod(w.uid);
        }
        return Infinity;
      }
    }
  }

  // ---- relist (PLEG) and housekeeping

  async #relist(): Promise<void> {
    const [ctrs, boxes] = await Promise.all([this.#o.runtime.listContainers(), this.#o.runtime.listPodSandbox()]);
    const now = new Map<string, string>();
    for (const c of ctrs) now.set(c.id, `${c.state}|${c.labels[LABEL_POD_UID] ?? ""}`);
    for (const b of boxes) now.set(b.id, `${b.state}|${b.labels[LABEL_POD_UID] ?? ""}`);
    const changed = new Set<string>();
    for (const [id, v] of now) if (this.#lastRelist.get(id) !== v) changed.add(v.split("|")[1] ?? "");
    for (const [id, v] of this.#lastRelist) if (!now.has(id)) changed.add(v.split("|")[1] ?? "");
    this.#lastRelist = now;
    for (const uid of changed) this.#workers.get(uid)?.kick();
  }

  /** Sandboxes of pods no source knows any more (deleted while no kubelet ran) are removed. */
  async #housekeeping(): Promise<void> {
    if (!this.#sourcesReady) return;
    this.#backoff.gc();
    const boxes = await this.#o.runtime.listPodSandbox();
    for (const b of boxes) {
      const uid = b.labels[LABEL_POD_UID];
      if (!uid || this.#workers.has(uid)) continue;
      const fake: Pod = { metadata: { name: b.metadata.name, namespace: b.metadata.namespace, uid }, spec: { containers: [] } };
      this.#log(`removing the sandbox of ${formatPod(fake)}, a pod no longer known`);
      await this.#syncer.killPod(fake, await readPodRuntimeStatus(this.#o.runtime, uid), 2).catch(() => {});
      await this.#syncer.removePod(fake, uid);
      await rm(join(this.#o.home, "log", "pods", podLogDirName(fake)), { recursive: true, force: true });
    }
  }

  // ---- for the kubelet's server

  /** The node's pods as the kubelet sees them, with the status it last generated. */
  pods(): Pod[] {
    return [...this.#workers.values()].map((w) => {
      const st = this.#status.get(w.uid);
      return { apiVersion: "v1", kind: "Pod", ...w.pod, ...(st ? { status: st } : {}) } as Pod;
    });
  }

  #find(ns: string, name: string): PodWorker | undefined {
    for (const w of this.#workers.values()) if ((w.pod.metadata.namespace ?? "default") === ns && w.pod.metadata.name === name && !w.gone) return w;
    return undefined;
  }

  /** The container whose logs (or streams) a request wants, as validateContainerLogStatus picks it. */
  async lookupContainer(ns: string, podName: string, container: string, opts: { previous?: boolean } = {}): Promise<{ containerId: string; logPath: string; running: boolean; sandboxId: string } | LookupError> {
    const w = this.#find(ns, podName);
    if (!w) return { error: { code: 404, reason: "NotFound", message: `pod "${podName}" not found` } };
    const st = this.#status.get(w.uid) ?? w.pod.status ?? {};
    const cs = [...(st.containerStatuses ?? []), ...(st.initContainerStatuses ?? [])].find((s) => s.name === container);
    const inSpec = [...(w.pod.spec.initContainers ?? []), ...w.pod.spec.containers].some((c) => c.name === container);
    if (!inSpec) return { error: { code: 400, reason: "BadRequest", message: `container ${container} is not valid for pod ${podName}` } };
    const bad = (message: string): LookupError => ({ error: { code: 400, reason: "BadRequest", message } });
    let id: string | undefined;
    if (opts.previous) {
      id = cs?.lastState?.terminated?.containerID;
      if (!id) return bad(`previous terminated container "${container}" in pod "${podName}" not found`);
    } else if (cs?.state?.running) id = cs.containerID;
    else if (cs?.state?.terminated) id = cs.state.terminated.containerID || cs.lastState?.terminated?.containerID;
    else if (cs?.state?.waiting) {
      id = cs.lastState?.terminated?.containerID;
      if (!id) {
        const r = cs.state.waiting.reason ?? "";
        const why = r === "ErrImagePull" ? "image can't be pulled" : r === "ImagePullBackOff" ? "trying and failing to pull image" : r;
        return bad(`container "${container}" in pod "${podName}" is waiting to start: ${why}`);
      }
    }
    if (!id) return bad(`container "${container}" in pod "${podName}" is not available`);
    const containerId = id.replace(/^[a-z]+:\/\//, "");
    try {
      const [status, list] = await Promise.all([this.#o.runtime.containerStatus(containerId), this.#o.runtime.listContainers({ id: containerId })]);
      return { containerId, logPath: status.status.logPath, running: status.status.state === "CONTAINER_RUNNING", sandboxId: list[0]?.podSandboxId ?? "" };
    } catch (err) {
      return { error: { code: 404, reason: "NotFound", message: `container "${container}" in pod "${podName}" is not available: ${errorMessage(err)}` } };
    }
  }

  async lookupSandbox(ns: string, podName: string): Promise<{ sandboxId: string } | LookupError> {
    const w = this.#find(ns, podName);
    if (!w) return { error: { code: 404, reason: "NotFound", message: `pod "${podName}" not found` } };
    const rs = await readPodRuntimeStatus(this.#o.runtime, w.uid);
    const sb = rs.sandboxes.find((s) => s.state === "SANDBOX_READY");
    if (!sb) return { error: { code: 400, reason: "BadRequest", message: `pod "${podName}" has no running sandbox` } };
    return { sandboxId: sb.id };
  }

  /** /stats/summary in the kubelet's shape (node, then pods with their containers). */
  async statsSummary(): Promise<object> {
    const stats = await this.#o.runtime.listContainerStats().catch(() => []);
    const t = new Date(this.#clock.now()).toISOString();
    const pods = [...this.#workers.values()].map((w) => ({
      podRef: { name: w.pod.metadata.name, namespace: w.pod.metadata.namespace, uid: w.uid },
      startTime: this.#status.get(w.uid)?.startTime,
      containers: stats.filter((s) => s.attributes.labels[LABEL_POD_UID] === w.uid).map((s) => ({
        name: s.attributes.metadata.name, startTime: t,
        cpu: { time: t, usageCoreNanoSeconds: s.cpu?.usageCoreNanoSeconds?.value ?? 0 },
        memory: { time: t, workingSetBytes: s.memory?.workingSetBytes?.value ?? 0, usageBytes: s.memory?.usageBytes?.value ?? 0 },
        rootfs: { time: t, usedBytes: s.writableLayer?.usedBytes?.value ?? 0 },
      })),
    }));
    return { node: { nodeName: this.#o.nodeName, startTime: new Date(this.#startedMs).toISOString() }, pods };
  }
}
