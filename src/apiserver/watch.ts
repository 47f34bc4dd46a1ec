/**
 * Serves one watch: newline-delimited JSON events on a chunked 200 response, flushed one by one
 * (apiserver handlers/watch.go). Events are translated from storage events through the request's
 * selectors (an object leaving the selection is DELETED, one entering it ADDED, as the cacher
 * does), with bookmarks, a timeout, 410 Expired for a history that is gone, and a bounded
 * output buffer: a reader that stops reading is disconnected, never buffered without end.
 * A storage event reaches every watcher as the same object, so each is decoded, and each JSON
 * line encoded, once for all the watchers it goes to (the cacher's cachingObject).
 */
import type { ServerResponse } from "node:http";
import type { KubeObject, WatchEventType } from "../api/index.js";
import type { Clock } from "../clock/index.js";
import type { ListOptions, Registry } from "./registry.js";
import { apiVersionOf, storageKey, type ResourceInfo } from "./resources.js";
import { badRequest, expired, toApiError } from "./status.js";
import { CompactedError, WatchOverflowError, type KV } from "./storage/index.js";

export interface WatchRequest {
  registry: Registry;
  info: ResourceInfo;
  namespace: string | undefined;
  list: ListOptions;
  /** The request's resourceVersion ("" or "0": start with the current objects as ADDED). */
  resourceVersion: string | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutMs: number;
  bookmarkIntervalMs: number;
  /** Bytes of written-but-unsent output after which the watcher is dropped. */
  maxBufferedBytes: number;
  clock: Clock;
  /** Turns each object into what is sent (a one-row Table for Table watches). */
  render: (obj: KubeObject, first: boolean) => unknown;
  /** Aborts when the server shuts down. */
  signal: AbortSignal;
}

/** Decoded objects of live storage events, per KV and resource; shared by watchers, so never mutated. */
const decoded = new WeakMap<KV, { info: ResourceInfo; obj: KubeObject }[]>();
/** Encoded JSON lines, per object sent and event type. */
const lines = new WeakMap<object, Map<WatchEventType, string>>();

function decodeShared(registry: Registry, info: ResourceInfo, kv: KV, revision: number): KubeObject {
  let list = decoded.get(kv);
  const hit = list?.find((e) => e.info === info);
  if (hit) return hit.obj;
  const obj = registry.decode(info, kv);
  obj.metadata.resourceVersion = String(revision);
  if (!list) decoded.set(kv, (list = []));
  list.push({ info, obj });
  return obj;
}

function lineOf(type: WatchEventType, object: unknown): string {
  if (typeof object !== "object" || object === null) return `${JSON.stringify({ type, object })}\n`;
  let byType = lines.get(object);
  const hit = byType?.get(type);
  if (hit !== undefined) return hit;
  const line = `${JSON.stringify({ type, object })}\n`;
  if (!byType) lines.set(object, (byType = new Map()));
  byType.set(type, line);
  return line;
}

export async function serveWatch(res: ServerResponse, w: WatchRequest): Promise<void> {
  const { registry, info } = w;
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  w.signal.addEventListener("abort", stop, { once: true });
  res.on("close", stop);
  let first = true;
  let lastRevision = 0;
  let dropped = false;

  res.writeHead(200, { "content-type": "application/json", "cache-control": "no-cache, private", "transfer-encoding": "chunked" });
  res.flushHeaders();

  const send = (type: WatchEventType, object: unknown): void => {
    if (dropped || res.destroyed) return;
    res.write(lineOf(type, object));
    if (res.writableLength > w.maxBufferedBytes) {
      // The reader is not keeping up: let it go and free what was queued for it.
      dropped = true;
      res.destroy();
      ac.abort();
    }
  };
  const sendObject = (type: WatchEventType, obj: KubeObject): void => {
    send(type, w.render(obj, first));
    first = false;
  };
  const bookmark = (annotations?: Record<string, string>): void => {
    send("BOOKMARK", { kind: info.kind, apiVersion: apiVersionOf(info), metadata: { resourceVersion: String(lastRevision), ...(annotations ? { annotations } : {}) } });
  };

  // Timers run on the injected clock; both end with the watch.
  void w.clock.sleep(w.timeoutMs, ac.signal).then(stop, () => undefined);
  if (w.allowBookmarks) {
    void (async () => {
      try {
        for (;;) {
          await w.clock.sleep(w.bookmarkIntervalMs, ac.signal);
          bookmark();
        }
      } catch { /* watch ended */ }
    })();
  }

  try {
    let from: number;
    const rv = w.resourceVersion;
    if (!rv || rv === "0" || w.sendInitialEvents) {
      const list = await registry.list(info, w.namespace, { ...w.list, limit: 0, continueToken: undefined, resourceVersion: undefined });
      lastRevision = Number(list.resourceVersion);
      for (const obj of list.items) sendObject("ADDED", obj);
      if (w.sendInitialEvents && w.allowBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
      from = lastRevision + 1;
    } else {
      const n = Number(rv);
      if (!Number.isInteger(n) || n < 0) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv)}: strconv.ParseUint: parsing ${JSON.stringify(rv)}: invalid syntax`);
      lastRevision = n;
      from = n + 1;
    }
    const prefix = storageKey(info, w.namespace);
    const events = registry.storage.watch(prefix, from, ac.signal);
    const decode = (kv: KV, revision: number): KubeObject => decodeShared(registry, info, kv, revision);
    for await (const ev of events) {
      const rev = ev.kv.modRevision;
      lastRevision = Math.max(lastRevision, rev);
      const prev = ev.prevKv ? decode(ev.prevKv, rev) : undefined;
      const prevIn = prev !== undefined && registry.selected(info, prev, w.list);
      if (ev.type === "DELETE") {
        if (prev && prevIn) sendObject("DELETED", prev);
        continue;
      }
      const cur = decode(ev.kv, rev);
      const curIn = registry.selected(info, cur, w.list);
      if (curIn && prevIn) sendObject("MODIFIED", cur);
      else if (curIn) sendObject("ADDED", cur);
      else if (prevIn) sendObject("DELETED", cur);
    }
  } catch (err) {
    if (err instanceof CompactedError) send("ERROR", expired(`too old resource version: ${err.requested - 1} (${err.compacted})`).status);
    else if (!(err instanceof WatchOverflowError)) send("ERROR", toApiError(err).status);
  } finally {
    ac.abort();
    w.signal.removeEventListener("abort", stop);
    if (!res.destroyed) {
      if (dropped) res.destroy(); else res.end();
    }
  }
}
