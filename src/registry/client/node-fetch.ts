/**
 * The fetch for what plain-http.ts does not send itself (HTTPS, uploads): node:http and
 * node:https over keep-alive agents, with the client's timeouts (timeouts.ts) and, for
 * registries configured with `skipVerify` and for loopback HTTPS, without certificate
 * checks (as `docker --insecure-registry` and containerd's `skip_verify`). Every method,
 * with or without a body (bytes, a string, or a stream sent once). Redirects are returned
 * when the caller asks `redirect: "manual"` (the Transport follows them itself), else
 * followed for GET and HEAD, without Authorization, Proxy-Authorization and Cookie once
 * they lead to another origin (as fetch does: a token server's redirect must not carry
 * the user's password to where it points). Failures look like fetch's: `TypeError("fetch failed")`
 * with the cause; an abort rejects with the signal's reason.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { plainHttpFetch, requestHeaders } from "./plain-http.js";
import { fetchFailed, hasNoBody, PlainHeaders, PlainResponse } from "./plain-response.js";
import { timeoutError, timeoutsWith, type ClientTimeouts, type TimeoutPhase } from "./timeouts.js";
import type { FetchLike } from "./types.js";

export interface NodeFetchOptions {
  /** check the server's TLS certificate (default true) */
  verifyTls?: boolean;
  /** default DEFAULT_TIMEOUTS */
  timeouts?: Partial<ClientTimeouts>;
}

const MAX_FOLLOWED_REDIRECTS = 20;

/** The request headers fetch drops when a redirect leads to another origin. */
const ORIGIN_BOUND_HEADERS = new Set(["authorization", "proxy-authorization", "cookie"]);

/** `init` without its origin-bound headers, for a redirect to another origin. */
function crossOrigin(init: RequestInit | undefined): RequestInit {
  const headers = requestHeaders(init?.headers).filter(([name]) => !ORIGIN_BOUND_HEADERS.has(name));
  return { ...init, headers };
}

let httpAgent: HttpAgent | undefined;
const httpsAgents = new Map<boolean, HttpsAgent>();

function agentFor(url: URL, verifyTls: boolean): HttpAgent | HttpsAgent {
  if (url.protocol === "http:") return (httpAgent ??= new HttpAgent({ keepAlive: true }));
  let agent = httpsAgents.get(verifyTls);
  if (!agent) httpsAgents.set(verifyTls, (agent = new HttpsAgent({ keepAlive: true, rejectUnauthorized: verifyTls })));
  return agent;
}

/** A fetch over node:http and node:https; see above. */
export function nodeHttpFetch(opts: NodeFetchOptions = {}): FetchLike {
  const verifyTls = opts.verifyTls ?? true;
  const timeouts = timeoutsWith(opts.timeouts);
  const fetchOnce: FetchLike = (input, init) => {
    const url = new URL(input instanceof URL ? input.href : input);
    if (url.protocol !== "https:" && url.protocol !== "http:") return Promise.reject(fetchFailed(new Error(`unsupported protocol ${url.protocol}`)));
    let headers: [string, string][];
    try {
      headers = requestHeaders(init?.headers);
    } catch (err) {
      return Promise.reject(err);
    }
    return send(url, (init?.method ?? "GET").toUpperCase(), headers, init, agentFor(url, verifyTls), timeouts);
  };
  return async (input, init) => {
    let url = new URL(input instanceof URL ? input.href : input);
    let sent = init;
    for (let hops = 0; ; hops++) {
      const res = await fetchOnce(url, sent);
      const method = (init?.method ?? "GET").toUpperCase();
      const location = res.headers.get("location");
      const follow = init?.redirect !== "manual" && (method === "GET" || method === "HEAD") && hops < MAX_FOLLOWED_REDIRECTS;
      if (!follow || location === null || ![301, 302, 303, 307, 308].includes(res.status)) return res;
      await res.body?.cancel();
      const next = new URL(location, url);
      if (next.origin !== url.origin) sent = crossOrigin(sent);
      url = next;
    }
  };
}

/** HTTP for plain-HTTP GETs over podyard's own sockets (plainHttpFetch), the rest through nodeHttpFetch. */
export function registryFetch(opts: NodeFetchOptions = {}): FetchLike {
  return plainHttpFetch({ fallback: nodeHttpFetch(opts), ...(opts.timeouts ? { timeouts: opts.timeouts } : {}) });
}

/** Plain HTTP, and HTTPS without certificate checks: for `skipVerify` and loopback registries. */
export function insecureHttpsFetch(opts: Omit<NodeFetchOptions, "verifyTls"> = {}): FetchLike {
  return registryFetch({ ...opts, verifyTls: false });
}

function send(url: URL, method: string, headers: [string, string][], init: RequestInit | undefined, agent: HttpAgent | HttpsAgent, timeouts: ClientTimeouts): Promise<Response> {
  const body = init?.body as unknown;
  const signal = init?.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = request(url, { method, headers: Object.fromEntries(headers), agent, ...(signal ? { signal } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      const out = new PlainHeaders();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string);
      try {
        const noBody = hasNoBody(method, status);
        if (noBody) res.resume();
        const stream = noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>);
        watch.responded(res, !noBody);
        resolve(new PlainResponse({ status, statusText: res.statusMessage ?? "", headers: out, url: url.href, body: stream }) as unknown as Response);
      } catch (err) {
        res.destroy();
        reject(fetchFailed(err));
      }
    });
    const watch = new Watchdog(req, url, timeouts);
    req.on("error", (err) => reject(signal?.aborted ? signal.reason : fetchFailed(err)));
    if (body === undefined || body === null) req.end();
    else if (body instanceof Uint8Array || typeof body === "string") req.end(body);
    else if (body instanceof Readable) pipeline(body, req).catch((err: unknown) => req.destroy(err instanceof Error ? err : new Error(String(err))));
    else {
      req.destroy();
      reject(fetchFailed(new Error("unsupported request body: want bytes, a string or a Readable")));
    }
  });
}

/**
 * One request's timers: the connection (and TLS handshake) within `connectMs`, the
 * response head within `responseMs` of the request sent, and body data at least every
 * `bodyIdleMs` unless the reader is behind (the response is paused). A timeout destroys
 * the request or response with a timeoutError.
 */
class Watchdog {
  #timer: NodeJS.Timeout | undefined;
  #connected = false;
  #sent = false;

  constructor(
    readonly req: ClientRequest,
    readonly url: URL,
    readonly timeouts: ClientTimeouts,
  ) {
    req.once("socket", (socket: Socket) => this.#onSocket(socket));
    req.once("finish", () => {
      this.#sent = true;
      this.#awaitResponse();
    });
    req.once("close", () => this.#clear());
  }

  #arm(ms: number, onFire: () => void): void {
    this.#clear();
    this.#timer = setTimeout(onFire, ms);
    this.#timer.unref();
  }

  #clear(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fail(phase: TimeoutPhase, ms: number): () => void {
    return () => this.req.destroy(timeoutError(this.url.host, phase, ms));
  }

  #onSocket(socket: Socket): void {
    if (!socket.connecting) {
      this.#connected = true; // a kept-alive connection
      this.#awaitResponse();
      return;
    }
    const { connectMs } = this.timeouts;
    this.#arm(connectMs, this.#fail("connect", connectMs));
    const tls = this.url.protocol === "https:";
    socket.once("connect", () => {
      if (tls) this.#arm(connectMs, this.#fail("tls", connectMs));
      else this.#onConnected();
    });
    if (tls) socket.once("secureConnect", () => this.#onConnected());
  }

  #onConnected(): void {
    this.#connected = true;
    this.#clear();
    this.#awaitResponse();
  }

  /** Once connected: the upload must keep moving; once it is all sent, the response head must come. */
  #awaitResponse(): void {
    if (!this.#connected) return;
    if (!this.#sent) return this.#watchUpload();
    const { responseMs } = this.timeouts;
    this.#arm(responseMs, this.#fail("response", responseMs));
  }

  /**
   * An upload takes as long as it takes, but fails when the server has taken none of it
   * for `bodyIdleMs` while there was data waiting to go (a slow source is not the server's doing).
   */
  #watchUpload(): void {
    const socket = this.req.socket;
    if (!socket) return;
    const { bodyIdleMs } = this.timeouts;
    let written = socket.bytesWritten;
    this.#arm(bodyIdleMs, () => {
      if (socket.bytesWritten === written && this.req.writableLength > 0) return this.#fail("upload", bodyIdleMs)();
      written = socket.bytesWritten;
      this.#timer?.refresh();
    });
  }

  /** The response head came: from now on the body must keep coming. */
  responded(res: IncomingMessage, hasBody: boolean): void {
    this.#clear();
    if (!hasBody) return;
    const { bodyIdleMs } = this.timeouts;
    const onIdle = (): void => {
      if (res.isPaused()) this.#timer?.refresh(); // the reader is behind, not the server
      else res.destroy(timeoutError(this.url.host, "body", bodyIdleMs));
    };
    this.#arm(bodyIdleMs, onIdle);
    res.on("data", () => this.#timer?.refresh());
    res.once("end", () => this.#clear());
    res.once("close", () => this.#clear());
  }
}
