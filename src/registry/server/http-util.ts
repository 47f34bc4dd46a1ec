/** Response and request helpers shared by the handlers. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { RegistryError } from "./errcode.js";

export function sendJSON(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Length": "0", ...headers });
  res.end();
}

/**
 * True when the request's If-None-Match names `digest`, the ETag of what it asks for
 * (quoted as we send it, or bare; weak tags compare equal, RFC 9110 13.1.2), or is `*`:
 * the client holds the content already.
 */
export function notModified(req: IncomingMessage, digest: string): boolean {
  const header = req.headers["if-none-match"];
  if (header === undefined) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === `"${digest}"` || tag === digest;
  });
}

/** 304 Not Modified for content under `digest`: its ETag and digest, no body. */
export function sendNotModified(res: ServerResponse, digest: string, headers: Record<string, string> = {}): void {
  res.writeHead(304, { "Docker-Content-Digest": digest, ETag: `"${digest}"`, ...headers });
  res.end();
}

/** True when the request carries a body (a Content-Length above 0, or chunked transfer). */
export function hasBody(req: IncomingMessage): boolean {
  const len = req.headers["content-length"];
  if (len !== undefined) return Number(len) > 0;
  return req.headers["transfer-encoding"] !== undefined;
}

/** The declared Content-Length, if any. */
export function contentLength(req: IncomingMessage): number | undefined {
  const len = req.headers["content-length"];
  if (len === undefined) return undefined;
  const n = Number(len);
  if (!Number.isSafeInteger(n) || n < 0) throw new RegistryError("SIZE_INVALID", `invalid Content-Length ${JSON.stringify(len)}`);
  return n;
}

/**
 * Reads a whole request body of at most `limit` bytes. A larger body is refused with
 * 413 before it is read into memory.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = contentLength(req);
  const tooLarge = (): RegistryError =>
    new RegistryError("MANIFEST_INVALID", `manifest is larger than the ${limit} byte limit`, { status: 413, detail: { limit } });
  if (declared !== undefined && declared > limit) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export type ByteRange = { start: number; end: number };

/**
 * Parses a `Range: bytes=...` header against a blob of `size` bytes (RFC 9110).
 * Returns undefined to serve the whole blob (no header, or one we may ignore), or
 * "unsatisfiable" for a 416.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | "unsatisfiable" | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined; // multiple ranges or another unit: serve the whole representation
  const [, a = "", b = ""] = m;
  if (a === "" && b === "") return undefined;
  if (a === "") {
    const n = Number(b);
    if (n === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(size - n, 0), end: size - 1 };
  }
  const start = Number(a);
  const end = b === "" ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== "" && Number(b) < start) return "unsatisfiable";
  if (start >= size) return "unsatisfiable";
  return { start, end };
}

/** Query parameter `n` of the listing endpoints; absent → undefined. */
export function parsePageSize(url: URL): number | undefined {
  const n = url.searchParams.get("n");
  if (n === null || n === "") return undefined;
  if (!/^\d+$/.test(n)) throw new RegistryError("PAGINATION_NUMBER_INVALID", `invalid page size n=${JSON.stringify(n)}`, { detail: { n } });
  return Number(n);
}

/** One page of a sorted list, after `last`, with the `Link` header for the next page. */
export function paginate(all: string[], url: URL, path: string): { items: string[]; headers: Record<string, string> } {
  const n = parsePageSize(url);
  const last = url.searchParams.get("last");
  let items = last === null ? all : all.filter((t) => t > last);
  const headers: Record<string, string> = {};
  if (n !== undefined) {
    if (items.length > n && n > 0) {
      items = items.slice(0, n);
      const next = `${path}?n=${n}&last=${encodeURIComponent(items[items.length - 1] ?? "")}`;
      headers.Link = `<${next}>; rel="next"`;
    } else {
      items = items.slice(0, n);
    }
  }
  return { items, headers };
}
