/**
 * Runs layer extraction in worker threads (two by default), so a pull unpacks layers
 * side by side while it downloads. A layer that is still downloading is followed: the
 * worker reads the growing file and hears of each change (`FeedMessage`). Layers whose
 * blob is not a file (neither `feed` nor `path`) are extracted in this thread. Workers
 * start on first use and never keep the process alive while idle.
 */
import { Worker } from "node:worker_threads";
import type { Digest } from "../../oci/index.js";
import type { AppliedLayer } from "./apply-layer.js";
import { fromWireError, toWireError, type ApplyRequest, type ApplyResponse, type FeedMessage } from "./apply-protocol.js";
import type { FileFeed } from "./file-feed.js";
import { applyInThread, type LayerApplier } from "./unpack.js";

/** Starts the worker module; under tsx (sources, not compiled) the worker registers tsx first. */
// Extraction streams: a small heap keeps the second thread's memory low.
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 96 };

function startWorker(): Worker {
  const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
  const target = new URL(`./apply-worker${ext}`, import.meta.url);
  if (ext === ".js") return new Worker(target, { resourceLimits: RESOURCE_LIMITS });
  const tsx = import.meta.resolve("tsx/esm/api");
  const code = `(async () => { const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(target.href)}); })()`;
  return new Worker(code, { eval: true, resourceLimits: RESOURCE_LIMITS });
}

/** One extraction thread and how many layers it is extracting. */
interface Slot {
  worker: Worker;
  active: number;
}

interface Pending {
  slot: Slot;
  resolve: (a: AppliedLayer) => void;
  reject: (e: Error) => void;
  onSkip?: (entry: string, reason: string) => void;
  /** Stops forwarding the feed's changes to the worker. */
  unfollow?: () => void;
}

export interface WorkerLayerApplierOptions {
  /**
   * Extraction threads, started as needed (default 1). Each extracts any number of layers
   * at once (unpackLayers bounds how many): inflating runs on libuv's thread pool, so one
   * thread keeps several layers going, and every thread costs its own heap.
   */
  workers?: number;
}

export class WorkerLayerApplier {
  readonly #size: number;
  readonly #slots: Slot[] = [];
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #closed = false;

  constructor(opts: WorkerLayerApplierOptions = {}) {
    this.#size = Math.max(1, opts.workers ?? 1);
  }

  /** The applier to give `unpackLayers`. */
  readonly apply: LayerApplier = async (dir, layer, opts) => {
    if (layer.path === undefined && layer.feed === undefined) return applyInThread(dir, layer, opts);
    const slot = this.#acquire();
    try {
      const feed = layer.feed === undefined ? undefined : await layer.feed();
      const id = this.#nextId++;
      const req: ApplyRequest = {
        type: "apply",
        id,
        dir,
        ...(feed === undefined ? { path: layer.path as string } : { path: feed.path, feed: { available: feed.available, complete: feed.complete } }),
        ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}),
      };
      return await new Promise<AppliedLayer>((resolve, reject) => {
        const pending: Pending = { slot, resolve, reject, ...(opts.onSkip ? { onSkip: opts.onSkip } : {}) };
        this.#pending.set(id, pending);
        slot.worker.postMessage(req);
        if (feed !== undefined && !feed.complete) pending.unfollow = this.#forward(slot.worker, id, feed);
      });
    } finally {
      this.#release(slot);
    }
  };

  /** Starts the first thread ahead of use, so its start-up overlaps what comes before the first layer. */
  warm(): void {
    if (!this.#closed && this.#slots.length === 0) this.#start();
  }

  /** Tells the worker about each change of `feed` until it completes or fails; returns a stop function. */
  #forward(worker: Worker, id: number, feed: FileFeed): () => void {
    let stopped = false;
    void (async () => {
      try {
        while (!stopped && !feed.complete) {
          await feed.changed();
          if (stopped) return;
          worker.postMessage({ type: "feed", id, path: feed.path, available: feed.available, complete: feed.complete } satisfies FeedMessage);
        }
      } catch (err) {
        if (!stopped) worker.postMessage({ type: "feed-failed", id, error: toWireError(err) } satisfies FeedMessage);
      }
    })();
    return () => {
      stopped = true;
    };
  }

  /** The least busy thread, or a new one while some are busy and there are fewer than allowed. */
  #acquire(): Slot {
    if (this.#closed) throw new Error("the layer extraction workers are closed");
    let slot = this.#slots.reduce<Slot | undefined>((best, s) => (best === undefined || s.active < best.active ? s : best), undefined);
    if (slot === undefined || (slot.active > 0 && this.#slots.length < this.#size)) slot = this.#start();
    if (slot.active++ === 0) slot.worker.ref();
    return slot;
  }

  #release(slot: Slot): void {
    if (--slot.active === 0) slot.worker.unref();
  }

  #start(): Slot {
    const worker = startWorker();
    worker.unref();
    const slot: Slot = { worker, active: 0 };
    worker.on("message", (res: ApplyResponse) => this.#settle(res));
    worker.on("error", (err) => this.#failAll(slot, err));
    worker.on("exit", (code) => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      this.#failAll(slot, new Error(`layer extraction worker exited with code ${code}`));
    });
    this.#slots.push(slot);
    return slot;
  }

  #settle(res: ApplyResponse): void {
    const p = this.#pending.get(res.id);
    if (!p) return;
    this.#pending.delete(res.id);
    p.unfollow?.();
    if ("error" in res) p.reject(fromWireError(res.error));
    else {
      for (const [entry, reason] of res.skipped) p.onSkip?.(entry, reason);
      p.resolve({ diffID: res.diffID as Digest, size: res.size });
    }
  }

  #failAll(slot: Slot, err: Error): void {
    for (const [id, p] of this.#pending) {
      if (p.slot !== slot) continue;
      this.#pending.delete(id);
      p.unfollow?.();
      p.reject(err);
    }
  }

  /** Stops the workers (pending extractions fail). */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
