/** Starts an API server on 127.0.0.1:0 over a fresh SQLite file for one test, and closes it after. */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiServer, SqliteStorage, type ApiServer, type ApiServerOptions } from "../../src/apiserver/index.js";

export interface TestServer {
  url: string;
  port: number;
  api: ApiServer;
  storage: SqliteStorage;
  dir: string;
}

export async function startServer(t: { after: (fn: () => Promise<void> | void) => void }, opts: Partial<ApiServerOptions> = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "podyard-api-"));
  const storage = new SqliteStorage(join(dir, "apiserver", "state.db"));
  const api = createApiServer({ storage, ...opts });
  const server = createServer();
  api.listen(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  await api.ready;
  const port = (server.address() as AddressInfo).port;
  t.after(async () => {
    await api.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    storage.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: `http://127.0.0.1:${port}`, port, api, storage, dir };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
  text: string;
}

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...(body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array) ? { "content-type": "application/json" } : {}), ...headers } };
  if (body !== undefined) init.body = typeof body === "string" ? body : body instanceof Uint8Array ? Buffer.from(body) : JSON.stringify(body);
  const res = await fetch(base + path, init);
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try { parsed = JSON.parse(text) as Record<string, unknown>; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export function pod(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels: { app: name } }, spec: { containers: [{ name: "c", image: "busybox:1.36" }], ...extra } };
}

/** A streaming watch: the events as they arrive, and a way to stop. */
export interface WatchStream {
  events: Record<string, unknown>[];
  /** Resolves once `n` events have arrived (or the stream ended). */
  next(n: number): Promise<Record<string, unknown>[]>;
  ended: Promise<void>;
  res: IncomingMessage;
  close(): void;
}

export function watch(base: string, path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { headers }, (res) => {
      const events: Record<string, unknown>[] = [];
      let buf = "";
      let waiters: (() => void)[] = [];
      const wake = (): void => { const w = waiters; waiters = []; for (const f of w) f(); };
      const ended = new Promise<void>((r) => { res.on("end", () => { wake(); r(); }); res.on("close", () => { wake(); r(); }); });
      let done = false;
      ended.then(() => { done = true; }, () => undefined);
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
          buf = buf.slice(i + 1);
        }
        wake();
      });
      res.on("error", () => wake());
      resolve({
        events, res, ended,
        next: async (n) => {
          while (events.length < n && !done) await new Promise<void>((r) => waiters.push(r));
          return events;
        },
        close: () => { req.destroy(); },
      });
    });
    req.on("error", reject);
    req.end();
  });
}
