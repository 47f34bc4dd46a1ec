/**
 * The body of the layer-extraction worker thread: it receives `{ id, dir, path,
 * maxBytes }`, extracts the blob at `path` into `dir` with `applyLayer`, and answers
 * `{ id, diffID, size }` or `{ id, error }`. Extraction (inflate, tar parsing, hashing,
 * file writes) then runs beside the downloads, on another core.
 */
import { createReadStream } from "node:fs";
import { parentPort } from "node:worker_threads";
import { errorClass } from "../../errdefs/index.js";
import { applyLayer } from "./apply-layer.js";
import { decompress } from "./decompress.js";

export interface ApplyRequest {
  id: number;
  dir: string;
  path: string;
  maxBytes?: number;
}

export type ApplyResponse =
  | { id: number; diffID: string; size: number; skipped: [string, string][] }
  | { id: number; error: { message: string; errorClass?: string; name: string } };

parentPort?.on("message", (req: ApplyRequest) => {
  const skipped: [string, string][] = [];
  void applyLayer(req.dir, decompress(createReadStream(req.path, { highWaterMark: 256 << 10 }), req.maxBytes === undefined ? {} : { maxBytes: req.maxBytes }), {
    onSkip: (entry, reason) => skipped.push([entry, reason]),
  }).then(
    (applied) => parentPort?.postMessage({ id: req.id, diffID: applied.diffID, size: applied.size, skipped } satisfies ApplyResponse),
    (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      const cls = errorClass(e);
      parentPort?.postMessage({ id: req.id, error: { message: e.message, name: e.name, ...(cls ? { errorClass: cls } : {}) } } satisfies ApplyResponse);
    },
  );
});
