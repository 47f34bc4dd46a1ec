/**
 * A small Kubernetes API client over node:http(s): JSON requests with the kubeconfig's credentials,
 * the three patch types, delete with options, and watch streams decoded line by line. It speaks
 * only the public Kubernetes API, so the kubelet works against podyard's API server or a real one.
 */
import http from "node:http";
import https from "node:https";
import { readFile } from "node:fs/promises";
import type { DeleteOptions, KubeList, KubeObject, Status, WatchEvent } from "../../api/index.js";
import { realClock } from "../../clock/index.js";
import { newError, PodyardError, type ErrorClass } from "../../errdefs/index.js";
import type { KubeClientConfig } from "./kubeconfig.js";

export type PatchType = "strategic" | "merge" | "json";

const PATCH_CONTENT_TYPE: Record<PatchType, string> = {
  strategic: "application/strategic-merge-patch+json",
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
};

const CLASS_OF_STATUS: Record<number, ErrorClass> = {
  400: "InvalidArgument", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound",
  409: "AlreadyExists", 410: "OutOfRange", 422: "InvalidArgument", 429: "ResourceExhausted",
  500: "Internal", 503: "Unavailable", 504: "Unavailable",
};

/** An error the API answered with: its HTTP code and metav1.Status (reason NotFound, Conflict, Expired, …). */
export class KubeApiError extends PodyardError {
  readonly httpStatus: number;
  readonly status: Status;
  constructor(httpStatus: number, status: Status, what: string) {
    super(CLASS_OF_STATUS[httpStatus] ?? (httpStatus >= 500 ? "Unavailable" : "InvalidArgument"), `${what}: ${status.message ?? `HTTP ${httpStatus}`}`);
    this.httpStatus = httpStatus;
    this.status = status;
  }
  get reason(): string | undefined {
    return this.status.reason;
  }
}

/** Whether `err` is the API's answer with this HTTP code. */
export function isApiStatus(err: unknown, code: number): boolean {
  return err instanceof KubeApiError && err.httpStatus === code;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

function queryString(q: RequestOptions["query"]): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

/** client-go's cached file token source reads its file again after a minute. */
export const TOKEN_FILE_REREAD_MS = 60_000;

export class KubeClient {
  readonly config: KubeClientConfig;
  readonly #url: URL;
  readonly #agent: http.Agent;
  #token: { value: string; readAt: number } | undefined;

  constructor(config: KubeClientConfig) {
    this.config = config;
    this.#url = new URL(config.server);
    const tls = this.#url.protocol === "https:";
    this.#agent = tls
      ? new https.Agent({
        keepAlive: true,
        ...(config.ca ? { ca: config.ca } : {}),
        ...(config.cert ? { cert: config.cert } : {}),
        ...(config.key ? { key: config.key } : {}),
        ...(config.tlsServerName ? { servername: config.tlsServerName } : {}),
        rejectUnauthorized: !config.insecureSkipTLSVerify,
      })
      : new http.Agent({ keepAlive: true });
  }

  /** Closes the idle connections (open watches end with their signals). */
  close(): void {
    this.#agent.destroy();
  }

  async #headers(contentType: string | undefined): Promise<Record<string, string>> {
    const h: Record<string, string> = { Accept: "application/json", "User-Agent": "podyard-kubelet" };
    if (contentType) h["Content-Type"] = contentType;
    const token = await this.#bearerToken();
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
  }

  async #bearerToken(): Promise<string | undefined> {
    const file = this.config.tokenFile;
    if (!file) return this.config.token;
    const now = (this.config.clock ?? realClock).now();
    if (this.#token === undefined || now - this.#token.readAt >= TOKEN_FILE_REREAD_MS) {
      this.#token = { value: (await readFile(file, "utf8")).trim(), readAt: now };
    }
    return this.#token.value;
  }

  /** Sends one request; resolves with the response once its headers are in. */
  async #send(method: string, path: string, opts: RequestOptions): Promise<http.IncomingMessage> {
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const headers = await this.#headers(body ? (opts.contentType ?? "application/json") : undefined);
    if (body) headers["Content-Length"] = String(body.length);
    const base = this.#url.pathname.replace(/\/+$/, "");
    const lib = this.#url.protocol === "https:" ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request({
        protocol: this.#url.protocol, hostname: this.#url.hostname, port: this.#url.port,
        path: `${base}${path}${queryString(opts.query)}`, method, headers, agent: this.#agent,
        ...(opts.signal ? { signal: opts.signal } : {}),
      }, resolve);
      req.on("error", (err) => reject(newError("Unavailable", `${method} ${path}: ${err.message}`, { cause: err })));
      req.end(body);
    });
  }

  /** One request with a JSON reply; a non-2xx answer throws KubeApiError. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, opts);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const code = res.statusCode ?? 0;
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : {};
    } catch {
      parsed = undefined;
    }
    if (code < 200 || code > 299) {
      const status: Status = parsed && typeof parsed === "object" && (parsed as Status).kind === "Status"
        ? (parsed as Status)
        : { metadata: {}, status: "Failure", code, message: text.trim() || `HTTP ${code}` };
      throw new KubeApiError(code, status, `${method} ${path}`);
    }
    if (parsed === undefined) throw newError("Internal", `${method} ${path}: reply is not JSON: ${text.slice(0, 200)}`);
    return parsed as T;
  }

  get<T extends KubeObject>(path: string, opts: RequestOptions = {}): Promise<T> {
    return this.request<T>("GET", path, opts);
  }

  list<T extends KubeObject>(path: string, query: RequestOptions["query"] = {}, signal?: AbortSignal): Promise<KubeList<T>> {
    return this.request<KubeList<T>>("GET", path, { query, ...(signal ? { signal } : {}) });
  }

  create<T extends KubeObject>(path: string, obj: T): Promise<T> {
    return this.request<T>("POST", path, { body: obj });
  }

  update<T extends KubeObject>(path: string, obj: T): Promise<T> {
    return this.request<T>("PUT", path, { body: obj });
  }

  patch<T extends KubeObject>(path: string, patch: unknown, type: PatchType = "strategic"): Promise<T> {
    return this.request<T>("PATCH", path, { body: patch, contentType: PATCH_CONTENT_TYPE[type] });
  }

  delete(path: string, opts: DeleteOptions = {}): Promise<unknown> {
    return this.request("DELETE", path, { body: { apiVersion: "v1", kind: "DeleteOptions", ...opts } });
  }

  /**
   * A watch: the events as they arrive, one JSON object a line. Ends when the server ends the
   * stream or `signal` aborts; an error answer before the stream throws KubeApiError.
   */
  async *watch<T = KubeObject>(path: string, query: RequestOptions["query"], signal?: AbortSignal): AsyncGenerator<WatchEvent<T | Status>> {
    const res = await this.#send("GET", path, { query: { ...query, watch: "true" }, ...(signal ? { signal } : {}) });
    const code = res.statusCode ?? 0;
    if (code < 200 || code > 299) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString("utf8");
      let status: Status;
      try {
        status = JSON.parse(text) as Status;
      } catch {
        status = { metadata: {}, code, message: text.trim() || `HTTP ${code}` };
      }
      throw new KubeApiError(code, status, `GET ${path} (watch)`);
    }
    let buf = "";
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString("utf8");
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) yield JSON.parse(line) as WatchEvent<T | Status>;
        }
      }
      if (buf.trim()) yield JSON.parse(buf) as WatchEvent<T | Status>;
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    } finally {
      res.destroy();
    }
  }
}
