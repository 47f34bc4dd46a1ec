/**
 * Runs layer extraction in a worker thread, so a pull unpacks on one core while it
 * downloads on the other. Layers whose blob is not a file (no `path`) are extracted
 * in this thread. The worker starts on first use and never keeps the process alive.
 */
import { Worker } from "node:worker_threads";
import { newError, type ErrorClass } from "../../errdefs/index.js";
import type { Digest } from "../../oci/index.js";
import type { AppliedLayer } from "./apply-layer.js";
import type { ApplyRequest, ApplyResponse } from "./apply-worker.js";
import { applyInThread, type LayerApplier } from "./unpack.js";

const ERROR_CLASSES: readonly string[] = [
  "InvalidArgument", "NotFound", "AlreadyExists", "FailedPrecondition", "Unavailable", "PermissionDenied",
  "Unauthenticated", "ResourceExhausted", "OutOfRange", "Aborted", "NotImplemented", "Internal",
] satisfies ErrorClass[];

/** The worker's error, rebuilt with its class so callers can still test it (isInvalidArgument, ...). */
function rebuild(e: { message: string; errorClass?: string; name: string }): Error {
  if (e.errorClass !== undefined && ERROR_CLASSES.includes(e.errorClass)) return newError(e.errorClass as ErrorClass, e.message);
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

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

export class WorkerLayerApplier {
  #worker: Worker | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, { resolve: (a: AppliedLayer) => void; reject: (e: Error) => void; onSkip?: (entry: string, reason: string) => void }>();

  /** The applier to give `unpackLayers`. */
  readonly apply: LayerApplier = async (dir, layer, opts) => {
    if (layer.path === undefined) return applyInThread(dir, layer, opts);
    const worker = this.#start();
    const id = this.#nextId++;
    const req: ApplyRequest = { id, dir, path: layer.path, ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}) };
    return new Promise<AppliedLayer>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, ...(opts.onSkip ? { onSkip: opts.onSkip } : {}) });
      if (this.#pending.size === 1) worker.ref();
      worker.postMessage(req);
    });
  };

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const w = startWorker();
    w.unref();
    w.on("message", (res: ApplyResponse) => this.#settle(res));
    w.on("error", (err) => this.#failAll(err));
    w.on("exit", (code) => {
      this.#worker = undefined;
      this.#failAll(new Error(`layer extraction worker exited with code ${code}`));
    });
    this.#worker = w;
    return w;
  }

  #settle(res: ApplyResponse): void {
    const p = this.#pending.get(res.id);
    if (!p) return;
    this.#pending.delete(res.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    if ("error" in res) p.reject(rebuild(res.error));
    else {
      for (const [entry, reason] of res.skipped) p.onSkip?.(entry, reason);
      p.resolve({ diffID: res.diffID as Digest, size: res.size });
    }
  }

  #failAll(err: Error): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.reject(err);
    }
  }

  /** Stops the worker (pending extractions fail). */
  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    if (w) await w.terminate();
  }
}
