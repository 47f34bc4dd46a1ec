/**
 * The OCI Distribution server: matches each request to a route, checks access,
 * runs the route's handler, and turns any error into the spec's JSON body. This is
 * the only place that writes error responses.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { realClock, type Clock } from "../../clock/index.js";
import { matchRoute, routeResource, type RouteName } from "../api/index.js";
import { allowAll, type Access, type Authorizer } from "./auth/index.js";
import { configureConnections, type ConnectionOptions } from "./connections.js";
import type { RequestContext, ServerSettings } from "./context.js";
import { errorBody, RegistryError } from "./errcode.js";
import { HANDLERS, requiredActions, type Method } from "./handlers/index.js";
import { RegistryMetrics } from "./metrics.js";
import type { UpstreamSource } from "./proxy.js";
import { publicError } from "./public-error.js";
import { parseName, Registry } from "./registry.js";
import { checkRoot } from "./storage-root.js";

export const DEFAULT_UPLOAD_TTL_MS = 168 * 3600 * 1000;

export interface RegistryServerOptions extends ConnectionOptions {
  /** storage directory */
  root: string;
  clock?: Clock;
  settings?: Partial<ServerSettings>;
  maxManifestBytes?: number;
  authorizer?: Authorizer;
  /** extra endpoints outside /v2/, e.g. the token endpoint */
  extraRoutes?: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
  upstream?: UpstreamSource;
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** how long an idle upload session lives (default 168 h, as distribution) */
  uploadTtlMs?: number;
  log?: (line: string) => void;
}

export class RegistryServer {
  readonly registry: Registry;
  readonly metrics = new RegistryMetrics();
  readonly server: Server;
  readonly #settings: ServerSettings;
  readonly #authorizer: Authorizer;
  readonly #upstream: UpstreamSource | undefined;
  readonly #extra: NonNullable<RegistryServerOptions["extraRoutes"]>;
  readonly #clock: Clock;
  readonly #uploadTtlMs: number;
  readonly #log: (line: string) => void;
  readonly #stop = new AbortController();
  readonly #scheme: "http" | "https";
  readonly #marks = new WeakMap<Socket, { read: number; written: number }>();
  readonly #root: string;

  constructor(opts: RegistryServerOptions) {
    this.#clock = opts.clock ?? realClock;
    this.#root = opts.root;
    this.registry = new Registry(opts.root, { clock: this.#clock, ...(opts.maxManifestBytes ? { maxManifestBytes: opts.maxManifestBytes } : {}) });
    this.registry.uploads.onChange = (n) => this.metrics.uploads.set({}, n);
    this.#settings = { deleteEnabled: true, anonymousMount: opts.authorizer === undefined, readOnly: false, ...opts.settings };
    this.#authorizer = opts.authorizer ?? allowAll;
    this.#upstream = opts.upstream;
    this.#extra = opts.extraRoutes ?? {};
    this.#uploadTtlMs = opts.uploadTtlMs ?? DEFAULT_UPLOAD_TTL_MS;
    this.#log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
    const handler = (req: IncomingMessage, res: ServerResponse): void => void this.#handle(req, res);
    this.#scheme = opts.tls ? "https" : "http";
    this.server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
    configureConnections(this.server, opts);
  }

  /** Listens once the storage root is a usable directory (created when missing). */
  async listen(port: number, host = "127.0.0.1"): Promise<string> {
    await checkRoot(this.#root, { create: true });
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    void this.#expireUploads();
    return this.url;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
    return `${this.#scheme}://${host}:${a.port}`;
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  /** Removes upload sessions idle longer than the TTL: now, then every hour. */
  async #expireUploads(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        for (const s of await this.registry.uploads.stale(this.#clock.now() - this.#uploadTtlMs)) await this.registry.uploads.purge(s.uuid);
        await this.#clock.sleep(3600_000, this.#stop.signal);
      } catch {
        return;
      }
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Count from where the connection's previous response ended; keep the socket, which
    // a destroyed request no longer points at by the time the response finishes.
    const sock = req.socket;
    const mark = this.#marks.get(sock) ?? { read: 0, written: 0 };
    let routeName = "unknown";
    let route: RouteName | undefined;
    res.once("close", () => {
      this.metrics.request(req.method ?? "", routeName, res.statusCode);
      this.metrics.bytesReceived.inc({}, Math.max(sock.bytesRead - mark.read, 0));
      this.metrics.bytesSent.inc({}, Math.max(sock.bytesWritten - mark.written, 0));
      this.#marks.set(sock, { read: sock.bytesRead, written: sock.bytesWritten });
    });
    res.setHeader("Docker-Distribution-API-Version", "registry/2.0");
    res.setHeader("X-Content-Type-Options", "nosniff");
    try {
      const url = new URL(req.url ?? "/", "http://registry.invalid");
      // Route on the path as sent: URL parsing would resolve "..", "." and "%2e%2e" segments,
      // turning /v2/a/%2e%2e/x/... into repository x. Names with such segments are invalid.
      const rawPath = req.url?.startsWith("/") ? req.url.split("?")[0] ?? "/" : url.pathname;
      if (rawPath === "/metrics" && req.method === "GET") {
        routeName = "metrics";
        await this.#authorizeMetrics(req);
        const text = this.metrics.render();
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4", "Content-Length": Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      const extra = this.#extra[rawPath];
      if (extra) {
        routeName = rawPath;
        await extra(req, res);
        return;
      }
      const match = matchRoute(rawPath);
      if (!match) {
        routeName = "none";
        throw new RegistryError("NAME_UNKNOWN", `no route for ${rawPath}`, { status: 404 });
      }
      routeName = match.route;
      route = match.route;
      const method = (req.method ?? "GET") as Method;
      const handler = HANDLERS[match.route][method];
      if (!handler) {
        throw new RegistryError("UNSUPPORTED", `${req.method} is not supported on ${rawPath}`, {
          headers: { Allow: Object.keys(HANDLERS[match.route]).join(", ") },
        });
      }
      const writes = method !== "GET" && method !== "HEAD";
      if (writes && this.#settings.readOnly) throw new RegistryError("UNSUPPORTED", "this registry is a read-only pull-through cache");
      // as distribution's storage.delete.enabled: content stays, but an upload can still be cancelled
      if (method === "DELETE" && !this.#settings.deleteEnabled && match.route !== "blobUpload") {
        throw new RegistryError("UNSUPPORTED", "deletes are disabled on this registry");
      }
      const access: Access[] = [];
      if (match.route === "catalog") access.push({ type: "registry", name: "catalog", actions: ["*"] });
      else if (match.route !== "base") access.push({ type: "repository", name: parseName(match.name), actions: requiredActions(method) });
      // A mount needs pull on its source: ask for both in one challenge, as distribution does.
      const from = match.route === "blobUploadStart" ? url.searchParams.get("from") : null;
      if (from !== null && url.searchParams.has("mount")) access.push({ type: "repository", name: parseName(from), actions: ["pull"] });
      await this.#authorizer.authorize(req, access);
      const ctx: RequestContext = {
        req,
        res,
        url,
        match,
        registry: this.registry,
        settings: this.#settings,
        upstream: this.#upstream,
        authorize: async (more) => {
          await this.#authorizer.authorize(req, more);
        },
      };
      await handler(ctx);
    } catch (err) {
      this.#writeError(req, res, err, route);
    }
  }

  /**
   * /metrics is behind the registry's auth, for users only: with token auth anyone can get an
   * anonymous token (no access, but valid), which /v2/ accepts as distribution does; /metrics
   * answers it as it answers no credentials, 401 with the challenge /v2/ sends.
   */
  async #authorizeMetrics(req: IncomingMessage): Promise<void> {
    const who = await this.#authorizer.authorize(req, []);
    if (who.user !== undefined || this.#authorizer === allowAll) return;
    const { authorization: _token, ...headers } = req.headers;
    const bare = Object.assign(Object.create(req) as IncomingMessage, { headers });
    const challenge = await this.#authorizer.authorize(bare, []).then(() => undefined, (err: unknown) => err);
    throw new RegistryError("UNAUTHORIZED", "metrics need a user's credentials; an anonymous token is not enough", {
      headers: challenge instanceof RegistryError ? challenge.headers : {},
    });
  }

  #writeError(req: IncomingMessage, res: ServerResponse, err: unknown, route: RouteName | undefined): void {
    if (res.headersSent || res.destroyed) {
      // Mid-response: nothing can be said to the client any more. A client that went away
      // (it had what it wanted, or gave up) is not an error of ours.
      if (!clientWentAway(err, res)) this.#log(`registry: ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      res.destroy();
      return;
    }
    const e = publicError(err, route && routeResource(route));
    this.metrics.errors.inc({ code: e.ociCode });
    if (e.status >= 500) this.#log(`registry: ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    const body = errorBody(e);
    res.writeHead(e.status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body), ...e.headers });
    res.end(req.method === "HEAD" ? undefined : body);
    // A body we did not read would be taken as the next request: drop the connection instead.
    if (!req.complete) req.once("end", () => undefined).resume();
  }
}

const CLIENT_GONE = new Set(["ERR_STREAM_PREMATURE_CLOSE", "ECONNRESET", "EPIPE", "ERR_STREAM_DESTROYED"]);

function clientWentAway(err: unknown, res: ServerResponse): boolean {
  const code = err instanceof Error && "code" in err ? String(err.code) : undefined;
  return (code !== undefined && CLIENT_GONE.has(code)) || res.socket === null || res.socket.destroyed;
}
