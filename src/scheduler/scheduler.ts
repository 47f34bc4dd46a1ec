/**
 * A minimal default-scheduler: it keeps informer caches of nodes and pods (a list, then a
 * watch from its resourceVersion, as kube-scheduler's shared informers), and binds each pod
 * that has no node to a node that fits (fit.ts) through `pods/<name>/binding`, with the
 * `Scheduled` event; when none fits it writes `FailedScheduling` (repeats counted in the
 * event's series) and the PodScheduled=False condition, and tries again with back-off
 * (1 s doubling to 10 s, as kube-scheduler's podInitialBackoff/podMaxBackoff), on the
 * injected clock. Pods of another schedulerName are left alone.
 */
import { hostname } from "node:os";
import { realClock, type Clock } from "../clock/index.js";
import { errorClass, errorMessage } from "../errdefs/index.js";
import { formatMicroTime, formatTime, type Event, type KubeList, type KubeObject, type Node, type Pod } from "../api/index.js";
import type { SchedulerApi, WatchEvent, WatchOptions } from "./api-client.js";
import { findNode } from "./fit.js";

export const SCHEDULER_NAME = "default-scheduler";
const INITIAL_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 10_000;
const RELIST_DELAY_MS = 1_000;

export interface SchedulerOptions {
  api: SchedulerApi;
  clock?: Clock;
  /** reportingInstance of the events; default `default-scheduler-<hostname>` */
  instance?: string;
  log?: (line: string) => void;
}

interface Pending {
  pod: Pod;
  attempts: number;
  /** when the next attempt may run (clock ms) */
  notBefore: number;
  failedEvent?: { name: string; message: string; count: number };
}

function key(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? "default"}/${obj.metadata.name ?? ""}`;
}

/** What an informer asks of the API: a list, then a watch from its resourceVersion. */
interface Source<T extends KubeObject> {
  what: string;
  list(): Promise<KubeList<T>>;
  watch(opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
  /** the cache after a (re)list */
  replace(items: T[]): void;
  /** one ADDED, MODIFIED or DELETED event */
  apply(type: "ADDED" | "MODIFIED" | "DELETED", obj: T): void;
}

function wantsUs(pod: Pod): boolean {
  const s = pod.spec.schedulerName;
  return (s === undefined || s === "" || s === SCHEDULER_NAME) && (pod.spec.nodeName ?? "") === "" && pod.metadata.deletionTimestamp === undefined
    && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed";
}

export class Scheduler {
  readonly #api: SchedulerApi;
  readonly #clock: Clock;
  readonly #instance: string;
  readonly #log: (line: string) => void;
  readonly #pending = new Map<string, Pending>();
  /** informer caches: every pod (by namespace/name; a bound pod counts against its node) and node */
  readonly #pods = new Map<string, Pod>();
  readonly #nodes = new Map<string, Node>();
  /** resolves once both caches hold their first list (kube-scheduler waits for the cache sync) */
  readonly #synced: Promise<void>;
  #markSynced: (what: string) => void;
  readonly #stop = new AbortController();
  #wake: (() => void) | undefined;
  #loops: Promise<void>[] = [];

  constructor(opts: SchedulerOptions) {
    this.#api = opts.api;
    this.#clock = opts.clock ?? realClock;
    this.#instance = opts.instance ?? `${SCHEDULER_NAME}-${hostname()}`;
    this.#log = opts.log ?? (() => {});
    const waiting = new Set(["pods", "nodes"]);
    let resolve: () => void = () => {};
    this.#synced = new Promise<void>((r) => (resolve = r));
    this.#markSynced = (what) => {
      waiting.delete(what);
      if (waiting.size === 0) resolve();
    };
  }

  start(): void {
    const api = this.#api;
    const pods: Source<Pod> = {
      what: "pods",
      list: () => api.listPods(),
      watch: (o, on, signal) => api.watchPods(o, on, signal),
      replace: (items) => {
        this.#pods.clear();
        for (const p of items) this.#pods.set(key(p), p);
        for (const k of [...this.#pending.keys()]) if (!this.#pods.has(k)) this.#pending.delete(k);
        for (const p of items) this.#offer(p);
      },
      apply: (type, pod) => {
        const k = key(pod);
        if (type === "DELETED") {
          this.#pods.delete(k);
          this.#pending.delete(k);
          return;
        }
        this.#pods.set(k, pod);
        this.#offer(pod);
      },
    };
    const nodes: Source<Node> = {
      what: "nodes",
      list: () => api.nodeList(),
      watch: (o, on, signal) => api.watchNodes(o, on, signal),
      replace: (items) => {
        this.#nodes.clear();
        for (const n of items) this.#nodes.set(n.metadata.name ?? "", n);
      },
      apply: (type, node) => {
        if (type === "DELETED") this.#nodes.delete(node.metadata.name ?? "");
        else this.#nodes.set(node.metadata.name ?? "", node);
      },
    };
    this.#loops = [this.#informer(pods), this.#informer(nodes), this.#scheduleLoop()];
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    await Promise.allSettled(this.#loops);
  }

  /** Pods waiting for a node, by namespace/name (for tests and status). */
  pending(): string[] {
    return [...this.#pending.keys()].sort();
  }

  #offer(pod: Pod): void {
    const k = key(pod);
    if (!wantsUs(pod)) {
      this.#pending.delete(k);
      return;
    }
    const had = this.#pending.get(k);
    if (had && had.pod.metadata.uid === pod.metadata.uid) had.pod = pod;
    else this.#pending.set(k, { pod, attempts: 0, notBefore: 0 });
    this.#wake?.();
  }

  /** List, then watch from the list's resourceVersion until the stream ends; a 410 (or an error) lists again. */
  async #informer<T extends KubeObject>(src: Source<T>): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      try {
        const list = await src.list();
        src.replace(list.items);
        this.#markSynced(src.what);
        let rv = list.metadata?.resourceVersion ?? "0";
        for (;;) {
          let expired = false;
          await src.watch({ resourceVersion: rv }, (e) => {
            if (e.type === "ERROR") {
              expired = true;
              return;
            }
            rv = e.object.metadata.resourceVersion ?? rv;
            if (e.type !== "BOOKMARK") src.apply(e.type, e.object);
          }, signal);
          if (expired || signal.aborted) break;
        }
      } catch (err) {
        if (signal.aborted) return;
        this.#log(`scheduler: watching ${src.what}: ${errorMessage(err)}`);
      }
      if (!signal.aborted) await this.#clock.sleep(RELIST_DELAY_MS, signal).catch(() => {});
    }
  }

  async #scheduleLoop(): Promise<void> {
    const signal = this.#stop.signal;
    await Promise.race([this.#synced, new Promise((r) => signal.addEventListener("abort", r, { once: true }))]);
    while (!signal.aborted) {
      const now = this.#clock.now();
      const due = [...this.#pending.values()].filter((p) => p.notBefore <= now);
      for (const p of due) {
        if (signal.aborted) return;
        await this.#scheduleOne(p).catch((err: unknown) => this.#log(`scheduler: ${key(p.pod)}: ${errorMessage(err)}`));
      }
      const next = Math.min(...[...this.#pending.values()].map((p) => p.notBefore));
      // sleep until the next back-off ends, or a pod arrives
      await new Promise<void>((resolve) => {
        const ctl = new AbortController();
        const done = (): void => {
          ctl.abort();
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        if (Number.isFinite(next)) void this.#clock.sleep(Math.max(0, next - this.#clock.now()), ctl.signal).then(done, () => {});
        if (signal.aborted) done();
      });
    }
  }

  async #scheduleOne(p: Pending): Promise<void> {
    const k = key(p.pod);
    if (this.#pending.get(k) !== p) return;
    const fit = findNode(p.pod, [...this.#nodes.values()], [...this.#pods.values()]);
    if ("node" in fit) {
      try {
        await this.#api.bind(p.pod, fit.node);
      } catch (err) {
        // the pod went away or was bound by someone else: nothing to do
        if (errorClass(err) === "NotFound" || errorClass(err) === "AlreadyExists") {
          this.#pending.delete(k);
          return;
        }
        throw err;
      }
      this.#pending.delete(k);
      // assumed bound (kube-scheduler's assume): the next pod counts it before the watch says so
      if (!this.#pods.get(k)?.spec.nodeName) this.#pods.set(k, { ...p.pod, spec: { ...p.pod.spec, nodeName: fit.node } });
      // not awaited: the next pod need not wait for this pod's event
      void this.#event(p.pod, "Normal", "Scheduled", `Successfully assigned ${k} to ${fit.node}`);
      return;
    }
    p.attempts++;
    p.notBefore = this.#clock.now() + Math.min(MAX_BACKOFF_MS, INITIAL_BACKOFF_MS * 2 ** (p.attempts - 1));
    if (p.failedEvent && p.failedEvent.message === fit.message) {
      p.failedEvent.count++;
      await this.#api.patchEvent(p.pod.metadata.namespace ?? "default", p.failedEvent.name, {
        series: { count: p.failedEvent.count, lastObservedTime: formatMicroTime(this.#clock.now()) },
      }).catch(() => {});
    } else {
      const name = await this.#event(p.pod, "Warning", "FailedScheduling", fit.message);
      p.failedEvent = { name, message: fit.message, count: 1 };
      await this.#api.patchPodStatus(p.pod, {
        status: {
          conditions: [{
            type: "PodScheduled", status: "False", reason: "Unschedulable", message: fit.message,
            lastProbeTime: null, lastTransitionTime: formatTime(this.#clock.now()),
          }],
        },
      }).catch(() => {});
    }
  }

  async #event(pod: Pod, type: "Normal" | "Warning", reason: string, message: string): Promise<string> {
    const now = this.#clock.now();
    const ns = pod.metadata.namespace ?? "default";
    // <object>.<hex of UnixNano>, as client-go names events
    const name = `${pod.metadata.name ?? ""}.${(BigInt(now) * 1_000_000n).toString(16)}`;
    const event: Event = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: ns },
      involvedObject: {
        kind: "Pod", namespace: ns, name: pod.metadata.name ?? "", apiVersion: "v1",
        ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}),
        ...(pod.metadata.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
      },
      reason,
      message,
      type,
      source: {},
      firstTimestamp: null,
      lastTimestamp: null,
      eventTime: formatMicroTime(now),
      action: type === "Normal" ? "Binding" : "Scheduling",
      reportingComponent: SCHEDULER_NAME,
      reportingInstance: this.#instance,
    };
    await this.#api.createEvent(ns, event).catch((err: unknown) => this.#log(`scheduler: event ${reason} for ${ns}/${pod.metadata.name ?? ""}: ${errorMessage(err)}`));
    return name;
  }
}
