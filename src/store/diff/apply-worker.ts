/**
 * The body of a layer-extraction worker thread. It receives `{ type: "apply", id, dir,
 * path, feed?, maxBytes }`, extracts the blob at `path` into `dir` with `applyLayer`, and
 * answers `{ id, diffID, size }` or `{ id, error }`. With `feed`, the blob is still being
 * downloaded: the thread reads what is on disk and waits for `FeedMessage`s telling it
 * of more bytes, of the finished blob (and its new path), or of the download's failure.
 * Extraction (inflate, tar parsing, hashing, file writes) then runs beside the downloads,
 * its garbage kept bounded (garbage-bound.ts).
 */
import { createReadStream } from "node:fs";
import { parentPort } from "node:worker_threads";
import { applyLayer } from "./apply-layer.js";
import { decompress } from "./decompress.js";
import { boundGarbage } from "./garbage-bound.js";
import { fromWireError, toWireError, type ApplyRequest, type ApplyResponse, type FeedMessage } from "./apply-protocol.js";
import { followBuffers, followFile, GrowingFile } from "./file-feed.js";

/** The growing blobs of the requests in progress, by request id. */
const feeds = new Map<number, GrowingFile>();

function onFeed(msg: FeedMessage): void {
  const feed = feeds.get(msg.id);
  if (feed === undefined) return;
  if (msg.type === "feed-failed") feed.fail(fromWireError(msg.error));
  else if (msg.complete) feed.finish(msg.available, msg.path);
  else feed.grow(msg.available);
}

function onApply(req: ApplyRequest): void {
  const skipped: [string, string][] = [];
  let blob: AsyncIterable<Uint8Array>;
  if (req.feed === undefined) {
    blob = createReadStream(req.path, { highWaterMark: 1 << 20 });
  } else {
    const feed = new GrowingFile(req.path, req.feed.available, req.feed.complete);
    feeds.set(req.id, feed);
    blob = followFile(feed, { pool: followBuffers, sync: true });
  }
  const recycle = (chunk: Buffer): void => followBuffers.recycle(chunk);
  const tar = decompress(blob, { recycle, ...(req.maxBytes === undefined ? {} : { maxBytes: req.maxBytes }) });
  void applyLayer(req.dir, boundGarbage(tar), {
    onSkip: (entry, reason) => skipped.push([entry, reason]),
  }).then(
    (applied) => parentPort?.postMessage({ id: req.id, diffID: applied.diffID, size: applied.size, skipped } satisfies ApplyResponse),
    (err: unknown) => parentPort?.postMessage({ id: req.id, error: toWireError(err) } satisfies ApplyResponse),
  ).finally(() => {
    feeds.delete(req.id);
    tar.destroy(); // after a failure, stops inflating and closes the blob (a no-op once it ended)
  });
}

parentPort?.on("message", (msg: ApplyRequest | FeedMessage) => {
  if (msg.type === "apply") onApply(msg);
  else onFeed(msg);
});
