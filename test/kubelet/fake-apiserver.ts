/**
 * A tiny in-memory Kubernetes API for the kubelet's tests: objects by path, list with a
 * spec.nodeName field selector, watch streams from a resourceVersion (410 when older than the
 * history kept), merge/strategic patches (shallow-deep merge), delete with grace 0 and a UID
 * precondition. Every request is logged for the tests to assert on.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import type { TestContext } from "node:test";
import type { KubeObject } from "../../src/api/index.js";
import { KubeClient } from "../../src/kubelet/index.js";

export interface Logged { method: string; path: string; query: URLSearchParams; body: unknown; contentType: string | undefined }

interface Watcher { prefix: string; selector: string | undefined; res: http.ServerResponse }

function merge(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v);
  }
  return out;
}

export class FakeApiServer {
  readonly objects = new Map<string, KubeObject>();
  readonly log: Logged[] = [];
  rv = 100;
  /** Events kept for watches: [rv, type, collectionPath, object]. */
  history: { rv: number; type: string; coll: string; obj: KubeObject }[] = [];
  oldestRV = 0;
  watchers: Watcher[] = [];
  server!: http.Server;
  url = "";

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Ends every open watch (the client must re-watch). */
  dropWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers = [];
  }

  /** Forgets the history: a watch from an older resourceVersion gets 410. */
  compact(): void {
    this.oldestRV = this.rv;
    this.history = [];
  }

  #emit(type: string, coll: string, obj: KubeObject): void {
    this.history.push({ rv: Number(obj.metadata.resourceVersion), type, coll, obj });
    for (const w of this.watchers) {
      if (coll.startsWith(w.prefix) || w.prefix === `/api/v1/${coll.split("/").pop() ?? ""}`) {
        if (w.selector && !this.#matches(obj, w.selector)) continue;
        w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
      }
    }
  }

  #matches(obj: KubeObject, selector: string): boolean {
    const m = /^spec\.nodeName=(.*)$/.exec(selector);
    if (!m) return true;
    return (obj as { spec?: { nodeName?: string } }).spec?.nodeName === m[1];
  }

  /** Puts an object as a client would create it (collection path, e.g. /api/v1/namespaces/default/pods). */
  put(coll: string, obj: KubeObject, type = "ADDED"): KubeObject {
    const o = structuredClone(obj);
    o.metadata.uid ??= randomUUID();
    o.metadata.resourceVersion = String(++this.rv);
    o.metadata.creationTimestamp ??= new Date().toISOString().replace(/\.\d+Z$/, "Z");
    this.objects.set(`${coll}/${o.metadata.name ?? ""}`, o);
    this.#emit(type, coll, o);
    return o;
  }

  get(path: string): KubeObject | undefined {
    return this.objects.get(path);
  }

  remove(path: string): void {
    const o = this.objects.get(path);
    if (!o) return;
    this.objects.delete(path);
    const d = structuredClone(o);
    d.metadata.resourceVersion = String(++this.rv);
    this.#emit("DELETED", path.slice(0, path.lastIndexOf("/")), d);
  }

  requests(method: string, pathRe: RegExp): Logged[] {
    return this.log.filter((l) => l.method === method && pathRe.test(l.path));
  }

  #send(res: http.ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  }

  #status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    this.#send(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason, message, code });
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const u = new URL(req.url ?? "/", "http://x");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    const body: unknown = text ? JSON.parse(text) : undefined;
    const path = u.pathname;
    this.log.push({ method: req.method ?? "", path, query: u.searchParams, body, contentType: req.headers["content-type"] });
    const selector = u.searchParams.get("fieldSelector") ?? undefined;
    const isCollection = (p: string): boolean => /\/(pods|events|nodes|leases|secrets|configmaps)$/.test(p);
    if (req.method === "GET" && isCollection(path)) {
      const all = [...this.objects.entries()].filter(([k]) => k.slice(0, k.lastIndexOf("/")) === path || (path === "/api/v1/pods" && /\/pods\/[^/]+$/.test(k) && k.startsWith("/api/v1/namespaces/")))
        .map(([, v]) => v).filter((o) => !selector || this.#matches(o, selector));
      if (u.searchParams.get("watch") === "true") {
        const from = Number(u.searchParams.get("resourceVersion") ?? "0");
        if (from && from < this.oldestRV) {
          res.writeHead(200, { "Content-Type": "application/json" });
          res.end(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 410, reason: "Expired", message: `too old resource version: ${from} (${this.oldestRV})` } })}\n`);
          return;
        }
        res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
        res.flushHeaders();
        const w: Watcher = { prefix: path, selector, res };
        for (const h of this.history) {
          if (h.rv > from && (h.coll === path || (path === "/api/v1/pods" && h.coll.endsWith("/pods"))) && (!selector || this.#matches(h.obj, selector))) res.write(`${JSON.stringify({ type: h.type, object: h.obj })}\n`);
        }
        this.watchers.push(w);
        req.on("close", () => { this.watchers = this.watchers.filter((x) => x !== w); });
        return;
      }
      this.#send(res, 200, { kind: "List", apiVersion: "v1", metadata: { resourceVersion: String(this.rv) }, items: all });
      return;
    }
    if (req.method === "POST" && isCollection(path)) {
      const o = body as KubeObject;
      if (this.objects.has(`${path}/${o.metadata.name ?? ""}`)) return this.#status(res, 409, "AlreadyExists", `${o.metadata.name ?? ""} already exists`);
      this.#send(res, 201, this.put(path, o));
      return;
    }
    const sub = /^(.*)\/status$/.exec(path);
    const objPath = sub && !isCollection(path) ? (sub[1] ?? path) : path;
    const cur = this.objects.get(objPath);
    if (req.method === "GET") {
      if (!cur) return this.#status(res, 404, "NotFound", `"${path.split("/").pop() ?? ""}" not found`);
      return this.#send(res, 200, cur);
    }
    if (!cur) return this.#status(res, 404, "NotFound", `"${path.split("/").pop() ?? ""}" not found`);
    const coll = objPath.slice(0, objPath.lastIndexOf("/"));
    if (req.method === "PUT") {
      this.#send(res, 200, this.put(coll, { ...(body as KubeObject), metadata: { ...(body as KubeObject).metadata, uid: cur.metadata.uid ?? "" } }, "MODIFIED"));
      return;
    }
    if (req.method === "PATCH") {
      const next = merge(cur, body) as KubeObject;
      this.#send(res, 200, this.put(coll, next, "MODIFIED"));
      return;
    }
    if (req.method === "DELETE") {
      const opts = (body ?? {}) as { gracePeriodSeconds?: number; preconditions?: { uid?: string } };
      if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid) return this.#status(res, 409, "Conflict", "Precondition failed: UID mismatch");
      const grace = opts.gracePeriodSeconds ?? 30;
      if (grace === 0 || !objPath.includes("/pods/")) {
        this.remove(objPath);
        return this.#send(res, 200, cur);
      }
      const next = structuredClone(cur);
      next.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      next.metadata.deletionGracePeriodSeconds = grace;
      this.#send(res, 200, this.put(coll, next, "MODIFIED"));
      return;
    }
    this.#status(res, 405, "MethodNotAllowed", "method not allowed");
  }
}

/** A started FakeApiServer and a KubeClient on it, both closed after the test. */
export async function startFakeApi(t: TestContext): Promise<{ api: FakeApiServer; client: KubeClient }> {
  const api = new FakeApiServer();
  await api.start();
  const client = new KubeClient({ server: api.url });
  t.after(async () => {
    client.close();
    await api.close();
  });
  return { api, client };
}
