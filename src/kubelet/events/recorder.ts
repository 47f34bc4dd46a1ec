/**
 * The kubelet's event recorder (client-go tools/record): core/v1 Events about a pod (or one of its
 * containers, by fieldPath), source kubelet on this host. As client-go's EventCorrelator does,
 * an identical repeat is not a new object: the same event gets `count+1` and a new lastTimestamp
 * by a patch; a spam filter (token bucket per object: burst 25, one more every 5 min) drops floods.
 * Events go out in order from one queue and never block or fail the caller. As client-go's
 * broadcaster sends from its own goroutine, the queue is sent once no event came for a moment
 * (sendDelayMs, at most maxSendDelayMs after the oldest), so the API server, which shares this
 * process's event loop, writes the pod's status patch first: a burst of events (Pulled, Created,
 * Started) goes out after the status that the same steps produced. The quiet moment (30 ms) is
 * longer than the gaps between a pod start's steps, so a start's events do not take the event
 * loop from the start itself.
 */
import { randomBytes } from "node:crypto";
import { formatTime, type Event, type ObjectReference, type Pod } from "../../api/index.js";
import { realClock, type Clock } from "../../clock/index.js";
import type { KubeClient } from "../client/index.js";

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  client: KubeClient;
  host: string;
  component?: string;
  clock?: Clock;
  onError?(err: unknown): void;
  /** Spam filter: burst and refill period (ms) per involved object. */
  burst?: number;
  refillMs?: number;
  /** Real ms without a new event before the queue is sent (30 by default; flush() sends at once). */
  sendDelayMs?: number;
  /** Real ms the oldest queued event waits at most (250 by default: a `kubectl describe` started as a pod turns Running, ~100 ms before it asks, finds its events). */
  maxSendDelayMs?: number;
  /** Objects (and distinct events) remembered, least recently used forgotten first; 4096 as client-go. */
  cacheSize?: number;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

const MAX_CACHE = 4096;

/** An ObjectReference to the pod, or to one container of it (`spec.containers{app}`). */
export function podRef(pod: Pod, container?: { name: string; init?: boolean }): ObjectReference {
  const ref: ObjectReference = {
    kind: "Pod", namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "", apiVersion: "v1",
  };
  if (pod.metadata.uid) ref.uid = pod.metadata.uid;
  if (pod.metadata.resourceVersion) ref.resourceVersion = pod.metadata.resourceVersion;
  if (container) ref.fieldPath = `${container.init ? "spec.initContainers" : "spec.containers"}{${container.name}}`;
  return ref;
}

export class EventRecorder {
  readonly #opts: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #component: string;
  readonly #seen = new Map<string, Seen>();
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  /** Writes waiting to be sent, in order. */
  readonly #tasks: (() => Promise<void>)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** performance.now() when the oldest queued event was queued */
  #oldest = 0;
  #sending: Promise<void> | undefined;
  #lastNano = 0n;

  constructor(opts: EventRecorderOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#component = opts.component ?? "kubelet";
  }

  #allow(objKey: string): boolean {
    const burst = this.#opts.burst ?? 25;
    const refill = this.#opts.refillMs ?? 300_000;
    const now = this.#clock.now();
    const b = this.#buckets.get(objKey) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + (now - b.at) / refill);
    b.at = now;
    // most recently used last; bounded as client-go's spam filter LRU is, so pods long gone
    // do not keep a bucket each (a forgotten one comes back full, as a new object's does)
    this.#buckets.delete(objKey);
    if (this.#buckets.size >= (this.#opts.cacheSize ?? MAX_CACHE)) this.#buckets.delete(this.#buckets.keys().next().value as string);
    this.#buckets.set(objKey, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** A name as client-go makes it: `<object>.<hex of UnixNano>`, unique even within one millisecond. */
  #name(obj: string): string {
    let nano = BigInt(this.#clock.now()) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE() % 1000);
    if (nano <= this.#lastNano) nano = this.#lastNano + 1n;
    this.#lastNano = nano;
    return `${obj}.${nano.toString(16)}`;
  }

  event(ref: ObjectReference, type: EventType, reason: string, message: string): void {
    const objKey = [ref.kind, ref.namespace, ref.name, ref.uid].join("/");
    if (!this.#allow(objKey)) return;
    const key = [this.#component, this.#opts.host, ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion, ref.fieldPath ?? "", type, reason, message].join("\u0000");
    const now = formatTime(this.#clock.now());
    const namespace = ref.namespace ?? "default";
    const prev = this.#seen.get(key);
    if (prev) {
      prev.count++;
      const count = prev.count;
      this.#enqueue(async () => {
        const path = `/api/v1/namespaces/${prev.namespace}/events/${prev.name}`;
        await this.#opts.client.patch(path, { count, lastTimestamp: now }, "strategic").catch(async (err: unknown) => {
          // the event expired (events live an hour): write it again under a new name
          const ev = this.#build(ref, type, reason, message, prev.firstTimestamp, now, count);
          prev.name = ev.metadata.name ?? prev.name;
          await this.#opts.client.create(`/api/v1/namespaces/${namespace}/events`, ev).catch(() => { throw err; });
        });
      });
      return;
    }
    const ev = this.#build(ref, type, reason, message, now, now, 1);
    if (this.#seen.size >= (this.#opts.cacheSize ?? MAX_CACHE)) this.#seen.delete(this.#seen.keys().next().value as string);
    this.#seen.set(key, { name: ev.metadata.name ?? "", namespace, count: 1, firstTimestamp: now });
    this.#enqueue(async () => {
      await this.#opts.client.create(`/api/v1/namespaces/${namespace}/events`, ev);
    });
  }

  #build(ref: ObjectReference, type: EventType, reason: string, message: string, first: string, last: string, count: number): Event {
    return {
      apiVersion: "v1", kind: "Event",
      metadata: { name: this.#name(ref.name ?? "unknown"), namespace: ref.namespace ?? "default" },
      involvedObject: ref, reason, message, type,
      source: { component: this.#component, host: this.#opts.host },
      firstTimestamp: first, lastTimestamp: last, count, eventTime: null,
      reportingComponent: this.#component, reportingInstance: this.#opts.host,
    };
  }

  #enqueue(task: () => Promise<void>): void {
    this.#tasks.push(task);
    // While the queue is being sent, the sender picks this one up too.
    if (!this.#sending) this.#arm();
  }

  #arm(): void {
    // Real time, not the injected clock: it orders writes on the wire and is no period anything
    // observes; unref'd, it never keeps the process alive (stop flushes).
    const now = performance.now();
    if (this.#timer) clearTimeout(this.#timer);
    else this.#oldest = now;
    const wait = Math.min(this.#opts.sendDelayMs ?? 30, Math.max(0, this.#oldest + (this.#opts.maxSendDelayMs ?? 250) - now));
    this.#timer = setTimeout(() => void this.#send(), wait);
    this.#timer.unref();
  }

  /** Sends the queue, one write at a time, until it is empty. */
  #send(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#sending ??= (async () => {
      for (let task = this.#tasks.shift(); task; task = this.#tasks.shift()) {
        try {
          await task();
        } catch (err) {
          this.#opts.onError?.(err);
        }
      }
    })().finally(() => {
      this.#sending = undefined;
      // one recorded between the last send and now
      if (this.#tasks.length > 0) this.#arm();
    });
    return this.#sending;
  }

  /** Resolves when every event recorded so far has been sent (or failed): the queue is sent now. */
  async flush(): Promise<void> {
    while (this.#tasks.length > 0 || this.#sending) await this.#send();
  }
}
