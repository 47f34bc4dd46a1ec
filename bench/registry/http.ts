// Minimal HTTP client for the benchmark: node:http with a keep-alive Agent, streamed request bodies and
// streamed (or small, collected) response bodies. Every response body is consumed so sockets are reused.
import http from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface SmallResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RequestOptions {
  readonly headers?: http.OutgoingHttpHeaders;
  /** A small in-memory body, or a factory for a streamed one (called once, when the request starts). */
  readonly body?: Buffer | (() => Readable);
}

/** Largest response body `request` collects; registry API responses are small. */
const MAX_SMALL_BODY = 16 << 20;
/** Socket inactivity after which a request fails. */
const IDLE_TIMEOUT_MS = 60_000;

export class RegistryClient {
  readonly #base: URL;
  readonly #agent: http.Agent;

  constructor(baseUrl: string, opts: { maxSockets: number }) {
    this.#base = new URL(baseUrl);
    this.#agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets, maxFreeSockets: opts.maxSockets });
  }

  /** Resolves a path or a Location header value against the server's base URL. */
  url(pathOrLocation: string): URL {
    return new URL(pathOrLocation, this.#base);
  }

  /** Sends a request and collects the (small) response body. */
  async request(method: string, target: string | URL, opts: RequestOptions = {}): Promise<SmallResponse> {
    const res = await this.stream(method, target, opts);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_SMALL_BODY) {
        res.destroy();
        throw new Error(`${method} ${String(target)}: response body larger than ${MAX_SMALL_BODY} bytes`);
      }
      chunks.push(chunk);
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) };
  }

  /**
   * Sends a request and resolves with the response once its headers arrived and the request body was sent.
   * The caller must consume or destroy the response.
   */
  async stream(method: string, target: string | URL, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    const url = typeof target === "string" ? this.url(target) : target;
    const req = http.request(url, { method, agent: this.#agent, headers: opts.headers });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once("response", resolve);
      req.once("error", reject);
    });
    // A stalled server fails the request instead of hanging the benchmark.
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url.pathname}: no progress for ${IDLE_TIMEOUT_MS} ms`)));
    let sendErr: unknown;
    let sent = Promise.resolve();
    if (opts.body === undefined) {
      req.end();
    } else if (Buffer.isBuffer(opts.body)) {
      req.end(opts.body);
    } else {
      sent = pipeline(opts.body(), req).catch((err: unknown) => {
        sendErr = err;
      });
    }
    const res = await Promise.race([
      response,
      sent.then(() => (sendErr === undefined ? response : Promise.reject(asError(sendErr)))),
    ]);
    await sent;
    // A server may answer an error before it read the whole body; its status is then the more useful report.
    if (sendErr !== undefined && (res.statusCode ?? 0) < 400) {
      res.destroy();
      throw asError(sendErr);
    }
    return res;
  }

  /** Closes the pooled sockets. */
  close(): void {
    this.#agent.destroy();
  }
}

/** Error for a response other than the one the protocol step expects, with the start of the body. */
export function unexpected(step: string, res: { status: number; body?: Buffer }): Error {
  const text = res.body === undefined ? "" : `: ${res.body.subarray(0, 300).toString("utf8").trim()}`;
  return new Error(`${step}: unexpected status ${res.status}${text}`);
}

/** The Location header, which the upload steps of the distribution API require. */
export function location(step: string, res: SmallResponse): string {
  const value = res.headers.location;
  if (value === undefined || value === "") throw new Error(`${step}: response ${res.status} has no Location header`);
  return value;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
