/**
 * One registry host's HTTP transport, a wrapper around `fetch`:
 * - attaches the Authorization the Authorizer gives for the request's scopes, and after
 *   a 401 learns the challenge and repeats the request once;
 * - retries transient failures (network errors, 408, 429 honouring Retry-After, 5xx)
 *   with exponential back-off on the injected Clock, up to `maxAttempts` in all (a
 *   refused connection, a host name that does not resolve, a timeout: 2, see attemptsFor);
 * - follows redirects itself, and never sends Authorization to another origin
 *   (Docker Hub redirects blob GETs to a CDN with a signed URL).
 * A request whose body is a stream cannot be repeated: it gets one attempt.
 * Every response is returned whatever its status; callers map failures to errors.
 */
import { Readable } from "node:stream";
import type { Clock } from "../../clock/index.js";
import { UnavailableError } from "../../errdefs/index.js";
import type { Authorizer } from "./authorizer.js";
import { discard } from "./body.js";
import { attemptsFor, backoffMs, isNetworkError, isTransientStatus, networkErrorText, retryAfterMs, type RetryPolicy } from "./retry.js";
import type { FetchLike } from "./types.js";

export interface TransportOptions {
  /** the registry host, for messages */
  host: string;
  authorizer: Authorizer;
  clock: Clock;
  fetch: FetchLike;
  retry: RetryPolicy;
  userAgent: string;
}

export interface TransportRequest {
  method: string;
  url: URL;
  /** token scopes the request needs, e.g. `repository:library/alpine:pull` */
  scopes: readonly string[];
  headers?: Record<string, string>;
  /** a buffer can be sent again; a stream only once */
  body?: Uint8Array | Readable;
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export class Transport {
  readonly #opts: TransportOptions;

  constructor(opts: TransportOptions) {
    this.#opts = opts;
  }

  get host(): string {
    return this.#opts.host;
  }

  async request(req: TransportRequest): Promise<Response> {
    const { authorizer, clock, retry } = this.#opts;
    const replayable = !(req.body instanceof Readable);
    let scopes = req.scopes;
    let authRetried = false;
    for (let attempt = 1; ; attempt++) {
      const auth = await authorizer.authorization(scopes);
      let res: Response;
      try {
        res = await this.#send(req, auth);
      } catch (err) {
        if (req.signal?.aborted || !isNetworkError(err) || !replayable || attempt >= attemptsFor(err, retry)) {
          throw this.#networkError(req, err, attempt);
        }
        await clock.sleep(backoffMs(attempt, retry), req.signal);
        continue;
      }
      if (res.status === 401 && !authRetried) {
        const verdict = authorizer.onUnauthorized(res, scopes, auth);
        if (verdict.retry && replayable) {
          discard(res);
          authRetried = true;
          scopes = verdict.scopes;
          attempt--; // learning the challenge is not a failed attempt
          continue;
        }
        return res;
      }
      if (isTransientStatus(res.status) && replayable && attempt < retry.maxAttempts) {
        const after = res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get("retry-after"), clock.now()) : undefined;
        if (after !== undefined && after > retry.maxRetryAfterMs) return res;
        discard(res);
        await clock.sleep(after ?? backoffMs(attempt, retry), req.signal);
        continue;
      }
      return res;
    }
  }

  /** Sends once, following redirects; Authorization goes to the request's own origin only. */
  async #send(req: TransportRequest, auth: string | undefined): Promise<Response> {
    const origin = req.url.origin;
    let url = req.url;
    let method = req.method;
    let body = req.body;
    for (let hops = 0; ; hops++) {
      const headers: Record<string, string> = { "User-Agent": this.#opts.userAgent, ...req.headers };
      if (auth !== undefined && url.origin === origin) headers.Authorization = auth;
      if (body === undefined) delete headers["Content-Type"];
      const init: RequestInit & { duplex?: "half" } = { method, headers, redirect: "manual" };
      // undici's fetch takes any async iterable of bytes as a body; the DOM typings know only web streams
      if (body !== undefined) init.body = body instanceof Readable ? (body as unknown as ReadableStream<Uint8Array>) : (body as Uint8Array<ArrayBuffer>);
      if (body instanceof Readable) init.duplex = "half";
      if (req.signal) init.signal = req.signal;
      const res = await this.#opts.fetch(url, init);
      const location = res.headers.get("location");
      if (!REDIRECTS.has(res.status) || location === null) return res;
      if (hops >= MAX_REDIRECTS) {
        discard(res);
        throw new UnavailableError(`registry ${this.#opts.host}: more than ${MAX_REDIRECTS} redirects for ${req.method} ${req.url.pathname}`);
      }
      discard(res);
      url = new URL(location, url);
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        method = "GET";
        body = undefined;
      } else if (body instanceof Readable) {
        throw new UnavailableError(`registry ${this.#opts.host} redirected a streamed ${method} to ${url.host}; the body cannot be sent again`);
      }
    }
  }

  #networkError(req: TransportRequest, err: unknown, attempts: number): Error {
    if (req.signal?.aborted || !isNetworkError(err)) return err instanceof Error ? err : new Error(String(err));
    const cause = networkErrorText(err);
    const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
    return new UnavailableError(`cannot reach registry ${this.#opts.host}: ${req.method} ${req.url.pathname}: ${cause}${tries}`, { cause: err });
  }
}
