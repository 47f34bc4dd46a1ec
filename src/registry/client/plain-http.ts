/**
 * The first half of the client's own fetch (registryFetch in node-fetch.ts). Plain-HTTP
 * GETs and HEADs without a body (every blob download from a local or insecure registry)
 * go over a socket of their own, read into 512 KiB buffers: a layer arrives in a few
 * hundred large chunks instead of thousands of 64 KiB ones, which on loopback makes a
 * download 2-3x faster than through `fetch`. Large chunks are views of those buffers,
 * lent to the consumer (see read-buffers.ts). Everything else (HTTPS, uploads) goes to
 * the fallback: the client's nodeHttpFetch, or the global `fetch` when none is given.
 *
 * What it speaks is plain HTTP/1.1, one request per connection (`Connection: close`):
 * a status line and headers of at most 64 KiB, then a body framed by Content-Length,
 * by chunked transfer coding, or by the end of the connection; none for HEAD, 1xx, 204
 * and 304. The response is a PlainResponse: the part of Response the client uses, without
 * loading undici. Its failures look like fetch's, so retries treat them alike: a connection
 * that fails or a malformed response is `TypeError("fetch failed")`, a body cut short
 * `TypeError("terminated")`, both with the cause; an abort rejects with the signal's reason.
 * Timeouts (see timeouts.ts) fail the request with code `ETIMEDOUT`: a connection not made
 * within `connectMs`, no response head within `responseMs` of the request sent, a body
 * that brings nothing for `bodyIdleMs` while its reader keeps up.
 */
import net from "node:net";
import { LEND_MIN_BYTES, readBuffers } from "./read-buffers.js";
import { fetchFailed, hasNoBody, PlainHeaders, PlainResponse } from "./plain-response.js";
import { timeoutError, timeoutsWith, type ClientTimeouts } from "./timeouts.js";
import type { FetchLike } from "./types.js";

export interface PlainHttpOptions {
  /** for requests this client does not handle; default the global fetch */
  fallback?: FetchLike;
  /** default DEFAULT_TIMEOUTS */
  timeouts?: Partial<ClientTimeouts>;
  /** sets both `responseMs` and `bodyIdleMs` (below `timeouts`) */
  idleTimeoutMs?: number;
}

const MAX_HEAD_BYTES = 64 << 10;
/** Chunks queued in the body stream before the socket pauses. */
const QUEUED_CHUNKS = 1;

/** A fetch that sends plain-HTTP GETs and HEADs over sockets of its own; see above. */
export function plainHttpFetch(opts: PlainHttpOptions = {}): FetchLike {
  const fallback = opts.fallback ?? ((input, init) => fetch(input, init));
  const idle = opts.idleTimeoutMs;
  const timeouts = timeoutsWith(idle !== undefined ? { responseMs: idle, bodyIdleMs: idle } : undefined, opts.timeouts);
  return (input, init) => {
    const url = new URL(input instanceof URL ? input.href : input);
    const method = (init?.method ?? "GET").toUpperCase();
    if (url.protocol !== "http:" || (method !== "GET" && method !== "HEAD") || init?.body != null || url.username !== "" || url.password !== "") {
      return fallback(input, init);
    }
    let headers: [string, string][];
    try {
      headers = requestHeaders(init?.headers);
    } catch (err) {
      return Promise.reject(err);
    }
    return request(url, method, headers, init?.signal ?? undefined, timeouts);
  };
}

function terminated(cause: unknown): TypeError {
  return new TypeError("terminated", { cause });
}

/** The request's headers as name-value pairs, refusing what cannot go on the wire as fetch does. */
export function requestHeaders(init: HeadersInit | undefined): [string, string][] {
  const pairs: [string, string][] = [];
  if (init === undefined) return pairs;
  const list: Iterable<readonly string[]> = Array.isArray(init) || Symbol.iterator in init ? (init as Iterable<readonly string[]>) : Object.entries(init);
  for (const [name = "", value = ""] of list) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new TypeError(`invalid header name ${JSON.stringify(name)}`);
    const v = String(value).trim();
    if (/[\r\n\0]/.test(v)) throw new TypeError(`invalid value for header ${name}`);
    pairs.push([name.toLowerCase(), v]);
  }
  return pairs;
}

function requestHead(url: URL, method: string, headers: readonly [string, string][]): string {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, "Connection: close"];
  for (const [name, value] of headers) {
    if (name === "host" || name === "connection") continue;
    lines.push(`${name}: ${value}`); // requestHeaders refused CR, LF and NUL
  }
  return `${lines.join("\r\n")}\r\n\r\n`;
}

interface ResponseHead {
  status: number;
  statusText: string;
  headers: PlainHeaders;
}

function parseHead(text: string): ResponseHead {
  const [statusLine = "", ...lines] = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
  if (!m) throw new Error(`malformed status line ${JSON.stringify(statusLine.slice(0, 100))}`);
  const headers = new PlainHeaders();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 100))}`);
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  return { status: Number(m[1]), statusText: m[2] ?? "", headers };
}

/** How the body ends: after `length` bytes, by chunked coding, or when the connection closes. */
type Framing = { kind: "none" } | { kind: "length"; left: number } | { kind: "chunked" } | { kind: "close" };

function framing(method: string, head: ResponseHead): Framing {
  if (hasNoBody(method, head.status)) return { kind: "none" };
  const te = head.headers.get("transfer-encoding");
  if (te !== null) {
    if (te.trim().toLowerCase() !== "chunked") throw new Error(`unsupported Transfer-Encoding ${JSON.stringify(te)}`);
    return { kind: "chunked" };
  }
  const cl = head.headers.get("content-length");
  if (cl !== null) {
    if (!/^\d+$/.test(cl.trim())) throw new Error(`malformed Content-Length ${JSON.stringify(cl)}`);
    const left = Number(cl.trim());
    return left === 0 ? { kind: "none" } : { kind: "length", left };
  }
  return { kind: "close" };
}

/**
 * Decodes chunked transfer coding incrementally: `push` takes raw bytes and returns the
 * data in them; `done` is true once the last chunk and its trailers have been read.
 */
class ChunkedDecoder {
  #state: "size" | "data" | "data-crlf" | "trailers" | "done" = "size";
  #left = 0;
  #line = "";

  get done(): boolean {
    return this.#state === "done";
  }

  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < buf.length && this.#state !== "done") {
      if (this.#state === "data") {
        const n = Math.min(this.#left, buf.length - i);
        out.push(buf.subarray(i, i + n));
        i += n;
        this.#left -= n;
        if (this.#left === 0) this.#state = "data-crlf";
        continue;
      }
      const nl = buf.indexOf(10, i);
      const end = nl < 0 ? buf.length : nl + 1;
      this.#line += buf.toString("latin1", i, end);
      i = end;
      if (this.#line.length > 4096) throw new Error("chunked coding: line too long");
      if (nl < 0) break;
      const line = this.#line.replace(/\r?\n$/, "");
      this.#line = "";
      if (this.#state === "data-crlf") {
        if (line !== "") throw new Error("chunked coding: missing CRLF after chunk data");
        this.#state = "size";
      } else if (this.#state === "size") {
        const m = /^([0-9a-fA-F]{1,12})(?:;.*)?$/.exec(line.trim());
        if (!m) throw new Error(`chunked coding: malformed chunk size ${JSON.stringify(line.slice(0, 40))}`);
        this.#left = parseInt(m[1] ?? "", 16);
        this.#state = this.#left === 0 ? "trailers" : "data";
      } else if (line === "") {
        this.#state = "done"; // the blank line after the trailers
      }
    }
    return out;
  }
}

function request(url: URL, method: string, headers: readonly [string, string][], signal: AbortSignal | undefined, timeouts: ClientTimeouts): Promise<Response> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    let head: Buffer | undefined = Buffer.alloc(0);
    let frame: Framing = { kind: "close" };
    let chunked: ChunkedDecoder | undefined;
    let body: ReadableStreamDefaultController<Uint8Array> | undefined;
    let finished = false;
    let paused = false;
    /** The buffer the socket reads into, until it is lent out with a chunk. */
    let current: Buffer | undefined;

    const onAbort = (): void => fail(signal?.reason);
    const fail = (err: unknown): void => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      if (head !== undefined) reject(err);
      else body?.error(err);
    };
    /** A socket or protocol failure: before the response head it fails the fetch, after it the body. */
    const failOn = (err: unknown): void => fail(head !== undefined ? fetchFailed(err) : terminated(err));
    const end = (): void => {
      if (finished) return;
      finished = true;
      signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      body?.close();
    };
    /** Passes body bytes on: a large part of one read as a view of its buffer (lent), else a copy. */
    const deliver = (data: Buffer, lendable: boolean): void => {
      if (data.length === 0 || body === undefined) return;
      if (lendable && current !== undefined && data.buffer === current.buffer && data.length >= LEND_MIN_BYTES) {
        readBuffers.lend(current);
        current = undefined; // the next read takes another buffer
        body.enqueue(data);
      } else {
        body.enqueue(Buffer.from(data)); // a copy: the read buffer is reused
      }
      if ((body.desiredSize ?? 1) <= 0) {
        // the reader is behind: wait for it, and do not count the wait as the server's silence
        paused = true;
        socket.pause();
        socket.setTimeout(0);
      }
    };
    const onBody = (data: Buffer): void => {
      switch (frame.kind) {
        case "length": {
          const part = data.subarray(0, frame.left);
          frame.left -= part.length;
          deliver(part, true);
          if (frame.left === 0) end();
          return;
        }
        case "chunked":
          for (const part of (chunked as ChunkedDecoder).push(data)) deliver(part, false); // parts may share a buffer
          if (chunked?.done) end();
          return;
        case "close":
          deliver(data, true);
          return;
        case "none":
          return;
      }
    };
    const onHead = (data: Buffer): void => {
      let buf = head === undefined || head.length === 0 ? data : Buffer.concat([head, data]);
      for (;;) {
        const at = buf.indexOf("\r\n\r\n");
        if (at > MAX_HEAD_BYTES || (at < 0 && buf.length > MAX_HEAD_BYTES)) throw new Error(`response head larger than ${MAX_HEAD_BYTES} bytes`);
        if (at < 0) {
          head = Buffer.from(buf); // a copy: the read buffer is reused
          return;
        }
        const parsed = parseHead(buf.toString("latin1", 0, at));
        buf = buf.subarray(at + 4);
        if (parsed.status < 200) continue; // an interim response (100 Continue, 103 Early Hints): the real one follows
        frame = framing(method, parsed);
        if (frame.kind === "chunked") chunked = new ChunkedDecoder();
        const stream = frame.kind === "none" ? null : new ReadableStream<Uint8Array>(
          {
            start: (c) => {
              body = c;
            },
            pull: () => {
              if (!paused) return;
              paused = false;
              socket.setTimeout(timeouts.bodyIdleMs);
              socket.resume();
            },
            cancel: () => {
              finished = true;
              signal?.removeEventListener("abort", onAbort);
              socket.destroy();
            },
          },
          { highWaterMark: QUEUED_CHUNKS },
        );
        const res = new PlainResponse({ ...parsed, url: url.href, body: stream }) as unknown as Response;
        head = undefined;
        socket.setTimeout(timeouts.bodyIdleMs);
        resolve(res);
        if (frame.kind === "none") end();
        else onBody(buf);
        return;
      }
    };

    const socket = net.connect({
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: Number(url.port || 80),
      onread: {
        buffer: () => (current ??= readBuffers.take()),
        callback: (n: number, buf: Uint8Array): boolean => {
          if (finished) return false;
          const data = Buffer.from(buf.buffer, buf.byteOffset, n);
          try {
            if (head !== undefined) onHead(data);
            else onBody(data);
          } catch (err) {
            failOn(err);
          }
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    // one idle timer, re-armed per phase: connecting, waiting for the head, reading the body
    let connected = false;
    socket.setTimeout(timeouts.connectMs, () => {
      if (!connected) return failOn(timeoutError(url.host, "connect", timeouts.connectMs));
      if (head !== undefined) return failOn(timeoutError(url.host, "response", timeouts.responseMs));
      failOn(timeoutError(url.host, "body", timeouts.bodyIdleMs));
    });
    socket.once("connect", () => {
      connected = true;
      if (head !== undefined) socket.setTimeout(timeouts.responseMs);
    });
    socket.on("error", failOn);
    socket.on("close", () => {
      if (finished) return;
      if (head === undefined && frame.kind === "close") return end();
      const err = Object.assign(new Error(`connection to ${url.host} closed ${head !== undefined ? "before a response" : "mid-body"}`), { code: "ECONNRESET" });
      failOn(err);
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    socket.write(requestHead(url, method, headers));
  });
}
