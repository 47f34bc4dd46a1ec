/**
 * SPDY/3 header blocks: `count:32 (nameLen:32 name valueLen:32 value)*`, compressed with one
 * zlib stream per direction for the whole session, seeded with the SPDY dictionary and flushed
 * (Z_SYNC_FLUSH) at the end of every block.
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from "node:zlib";
import { SPDY_HEADER_DICTIONARY } from "./dictionary.js";

export type SpdyHeaders = Map<string, string>;

function flushThrough(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const onData = (d: Buffer): void => void out.push(d);
    const onError = (err: Error): void => {
      z.off("data", onData);
      reject(err);
    };
    z.on("data", onData);
    z.once("error", onError);
    if (input.length > 0) z.write(input);
    z.flush(constants.Z_SYNC_FLUSH, () => {
      z.off("data", onData);
      z.off("error", onError);
      resolve(Buffer.concat(out));
    });
  });
}

export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.alloc(4);
  count.writeUInt32BE(headers.size);
  parts.push(count);
  for (const [name, value] of headers) {
    for (const s of [name.toLowerCase(), value]) {
      const b = Buffer.from(s, "utf8");
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      parts.push(len, b);
    }
  }
  return Buffer.concat(parts);
}

export function decodeHeaderBlock(block: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = new Map();
  let off = 0;
  const read = (): string => {
    if (off + 4 > block.length) throw new Error("spdy: truncated header block");
    const len = block.readUInt32BE(off);
    off += 4;
    if (off + len > block.length) throw new Error("spdy: truncated header block");
    const s = block.subarray(off, off + len).toString("utf8");
    off += len;
    return s;
  };
  if (block.length < 4) throw new Error("spdy: truncated header block");
  const count = block.readUInt32BE(0);
  off = 4;
  for (let i = 0; i < count; i++) {
    const name = read();
    headers.set(name.toLowerCase(), read());
  }
  return headers;
}

/** One session's two compression contexts; calls must be made one at a time per direction. */
export class HeaderCodec {
  readonly #inflate = createInflate({ dictionary: SPDY_HEADER_DICTIONARY });
  readonly #deflate = createDeflate({ dictionary: SPDY_HEADER_DICTIONARY });
  #deflateQueue: Promise<unknown> = Promise.resolve();

  constructor() {
    // A corrupt block rejects the call that fed it; a late second error must not go unhandled.
    this.#inflate.on("error", () => undefined);
    this.#deflate.on("error", () => undefined);
  }

  async decode(compressed: Buffer): Promise<SpdyHeaders> {
    return decodeHeaderBlock(await flushThrough(this.#inflate, compressed));
  }

  /** Compressions are chained so that blocks leave in the order they were asked for. */
  encode(headers: SpdyHeaders): Promise<Buffer> {
    const next = this.#deflateQueue.then(() => flushThrough(this.#deflate, encodeHeaderBlock(headers)));
    this.#deflateQueue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.#inflate.destroy();
    this.#deflate.destroy();
  }
}
