/**
 * Layer decompression by magic number, not by media type (containerd's `compression.DecompressStream`):
 * gzip `1f 8b`, zstd `28 b5 2f fd`, anything else is taken as a plain tar. gzip goes through
 * node:zlib; zstd through fzstd (pure JS; Node 20's zlib has none), behind a frame scanner that
 * refuses windows over `maxZstdWindow` before fzstd allocates them and blocks larger than the
 * format allows. Decompressed bytes are counted against `maxBytes`.
 */
import { Readable } from "node:stream";
import { createGunzip, type ZlibOptions } from "node:zlib";
import { Decompress } from "fzstd";
import { InvalidArgumentError, PodyardError, ResourceExhaustedError } from "../../errdefs/index.js";

export type Compression = "gzip" | "zstd" | "none";

export interface DecompressOptions {
  /** Fail once the decompressed stream passes this many bytes. */
  maxBytes?: number;
  /** Largest zstd window accepted; default 128 MiB (the zstd command's own default limit). */
  maxZstdWindow?: number;
  /**
   * Called with each gzip input chunk once inflating is done with it (so a BufferPool can
   * reuse it; see followFile). Not called for zstd or plain input.
   */
  recycle?: (chunk: Buffer) => void;
}

/**
 * Bytes of gzip output per piece. zlib inflates on the libuv thread pool, one output buffer
 * per round trip to the thread that reads it; its default 16 KiB makes those trips (not
 * inflate) the bottleneck, and even 256 KiB left a pull's extraction waiting on them:
 * 1 MiB pieces made a cold pull of the bench image 6% faster than 256 KiB, at the same
 * memory (the pieces are garbage once written).
 */
const GZIP_CHUNK = 1 << 20;
/** Inflated bytes zlib may hold for a reader that is busy with the pieces before. */
const GZIP_READ_AHEAD = 2 * GZIP_CHUNK;
const ZSTD_FEED = 1024; // bytes fed to fzstd at a time: bounds what one push can expand to
const ZSTD_MAX_BLOCK = 128 * 1024;

/** The compression of a stream that starts with `head` (at least 4 bytes, unless the stream is shorter). */
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/**
 * The decompressed bytes of `input`, whichever of gzip, zstd or plain it is. Corrupt or
 * truncated data fails the stream with InvalidArgumentError, too many bytes with
 * ResourceExhaustedError.
 */
export function decompress(input: AsyncIterable<Uint8Array>, opts: DecompressOptions = {}): Readable {
  const maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
  const maxWindow = opts.maxZstdWindow ?? 128 * 1024 * 1024;
  return Readable.from(decompressChunks(input, maxBytes, maxWindow, opts.recycle), { objectMode: false });
}

async function* decompressChunks(input: AsyncIterable<Uint8Array>, maxBytes: number, maxWindow: number, recycle: ((chunk: Buffer) => void) | undefined): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLength = 0;
  let ended = false;
  while (headLength < 4) {
    const r = await it.next();
    if (r.done === true) {
      ended = true;
      break;
    }
    head.push(toBuffer(r.value));
    headLength += r.value.length;
  }
  const first = Buffer.concat(head);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length > 0) yield first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield toBuffer(r.value);
    }
  }
  const counter = new Counter(maxBytes);
  const kind = detectCompression(first);
  try {
    if (kind === "none") {
      for await (const c of rest()) yield counter.add(c);
    } else if (kind === "gzip") {
      yield* gunzip(rest(), counter, recycle);
    } else {
      yield* unzstd(rest(), counter, maxWindow);
    }
  } finally {
    if (!ended) await it.return?.();
  }
}

class Counter {
  #total = 0;
  readonly #max: number;
  constructor(max: number) {
    this.#max = max;
  }
  add(chunk: Buffer): Buffer {
    this.#total += chunk.length;
    if (this.#total > this.#max) throw new ResourceExhaustedError(`layer decompresses to more than the limit of ${this.#max} bytes`);
    return chunk;
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

async function* gunzip(src: AsyncIterable<Buffer>, counter: Counter, recycle: ((chunk: Buffer) => void) | undefined): AsyncGenerator<Buffer> {
  // zlib may run ahead of the reader by a few pieces, so inflating (on the thread pool)
  // overlaps what the reader does with the pieces before.
  const z = createGunzip({ chunkSize: GZIP_CHUNK, readableHighWaterMark: GZIP_READ_AHEAD } as ZlibOptions);
  // Input goes in with the next chunk queued behind the one being inflated; a write's
  // callback says zlib is done with that chunk, which can then be recycled.
  void (async () => {
    let previous: Promise<void> = Promise.resolve();
    for await (const c of src) {
      const written = new Promise<void>((resolve, reject) => z.write(c, (err) => (err ? reject(err) : resolve())));
      written.catch(() => undefined); // its failure surfaces at the await below, or through `z`
      await previous;
      previous = written.then(() => recycle?.(c));
    }
    await previous;
    z.end();
  })().catch((err: unknown) => z.destroy(err instanceof Error ? err : new Error(String(err)))); // errors reach the loop below through `z`
  try {
    for await (const c of z as AsyncIterable<Buffer>) yield counter.add(c);
  } catch (err) {
    if (err instanceof PodyardError || !(err instanceof Error) || !("errno" in err)) throw err;
    const truncated = (err as { code?: unknown }).code === "Z_BUF_ERROR";
    throw new InvalidArgumentError(truncated ? "unexpected end of layer: the gzip stream is truncated" : `invalid gzip layer data: ${err.message}`, { cause: err });
  } finally {
    z.destroy();
  }
}

async function* unzstd(src: AsyncIterable<Buffer>, counter: Counter, maxWindow: number): AsyncGenerator<Buffer> {
  const out: Buffer[] = [];
  const frames = new ZstdFrames(maxWindow);
  const d = new Decompress((chunk) => {
    out.push(counter.add(toBuffer(chunk)));
  });
  const push = (piece: Uint8Array, final: boolean): void => {
    try {
      d.push(piece, final);
    } catch (err) {
      if (err instanceof PodyardError) throw err;
      throw new InvalidArgumentError(`invalid zstd layer data: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  };
  for await (const c of src) {
    for (let i = 0; i < c.length; i += ZSTD_FEED) {
      const piece = c.subarray(i, i + ZSTD_FEED);
      frames.scan(piece);
      push(piece, false);
      if (out.length > 0) yield* out.splice(0);
    }
  }
  frames.end();
  push(new Uint8Array(0), true);
  yield* out.splice(0);
}

/**
 * Follows zstd frame boundaries (RFC 8878 §3.1) without decoding: frame headers, block
 * headers and skippable frames. It checks each frame's window size and block sizes and
 * that the stream ends at a frame boundary.
 */
class ZstdFrames {
  readonly #maxWindow: number;
  #state: "magic" | "descriptor" | "header" | "block" | "skipSize" | "skip" = "magic";
  #need = 4;
  #buf: number[] = [];
  #skip = 0;
  #afterSkip: "magic" | "block" = "magic";
  #descriptor = 0;
  #blockMax = ZSTD_MAX_BLOCK;
  #frames = 0;

  constructor(maxWindow: number) {
    this.#maxWindow = maxWindow;
  }

  scan(data: Uint8Array): void {
    let i = 0;
    while (i < data.length) {
      if (this.#state === "skip") {
        const k = Math.min(this.#skip, data.length - i);
        this.#skip -= k;
        i += k;
        if (this.#skip === 0) this.#enter(this.#afterSkip);
        continue;
      }
      this.#buf.push(data[i++] ?? 0);
      if (this.#buf.length === this.#need) this.#field(this.#buf.splice(0));
    }
  }

  end(): void {
    if (this.#state !== "magic" || this.#buf.length > 0 || this.#frames === 0) {
      throw new InvalidArgumentError("unexpected end of layer: the zstd stream is truncated");
    }
  }

  #enter(state: "magic" | "block"): void {
    this.#state = state;
    this.#need = state === "magic" ? 4 : 3;
  }

  #skipThen(n: number, then: "magic" | "block"): void {
    this.#afterSkip = then;
    if (n === 0) return this.#enter(then);
    this.#state = "skip";
    this.#skip = n;
  }

  #field(b: number[]): void {
    const le = (from: number, n: number): number => {
      let v = 0;
      for (let k = n - 1; k >= 0; k--) v = v * 256 + (b[from + k] ?? 0);
      return v;
    };
    switch (this.#state) {
      case "magic": {
        const magic = le(0, 4);
        if (magic === 0xfd2fb528) {
          this.#frames++;
          this.#state = "descriptor";
          this.#need = 1;
        } else if (magic >>> 4 === 0x184d2a5) {
          this.#state = "skipSize";
          this.#need = 4;
        } else {
          throw new InvalidArgumentError("invalid zstd layer data: expected a frame magic number");
        }
        return;
      }
      case "skipSize":
        return this.#skipThen(le(0, 4), "magic");
      case "descriptor": {
        const fhd = b[0] ?? 0;
        if (fhd & 0x08) throw new InvalidArgumentError("invalid zstd layer data: reserved frame header bit set");
        this.#descriptor = fhd;
        const single = (fhd >> 5) & 1;
        const fcsSize = [single, 2, 4, 8][fhd >> 6] ?? 0;
        const len = (single ? 0 : 1) + ([0, 1, 2, 4][fhd & 3] ?? 0) + fcsSize;
        if (len === 0) return this.#enter("block");
        this.#state = "header";
        this.#need = len;
        return;
      }
      case "header": {
        const fhd = this.#descriptor;
        const single = (fhd >> 5) & 1;
        let window: number;
        if (single) {
          const fcsSize = [1, 2, 4, 8][fhd >> 6] ?? 1;
          window = le(b.length - fcsSize, fcsSize) + (fcsSize === 2 ? 256 : 0);
        } else {
          const wd = b[0] ?? 0;
          const base = 2 ** (10 + (wd >> 3));
          window = base + (base / 8) * (wd & 7);
        }
        if (window > this.#maxWindow) {
          throw new InvalidArgumentError(`zstd layer frame needs a ${window}-byte window, over the limit of ${this.#maxWindow} bytes`);
        }
        this.#blockMax = Math.min(window, ZSTD_MAX_BLOCK);
        return this.#enter("block");
      }
      case "block": {
        const h = le(0, 3);
        const last = h & 1;
        const type = (h >> 1) & 3;
        const size = h >>> 3;
        if (type === 3) throw new InvalidArgumentError("invalid zstd layer data: reserved block type");
        if (size > this.#blockMax) throw new InvalidArgumentError(`invalid zstd layer data: block of ${size} bytes exceeds the ${this.#blockMax}-byte maximum`);
        const payload = type === 1 ? 1 : size;
        const checksum = (this.#descriptor >> 2) & 1 ? 4 : 0;
        return last ? this.#skipThen(payload + checksum, "magic") : this.#skipThen(payload, "block");
      }
      default:
        return;
    }
  }
}
