/**
 * Streaming pieces the archive operations share: decompression chosen by the
 * stream's magic bytes (gzip, zstd, or none), a digesting tap, a tar writer with
 * back-pressure, and ingesting a stream into the content store. Nothing here holds
 * a whole layer in memory.
 */
import { once } from "node:events";
import { randomBytes } from "node:crypto";
import type { Pack } from "tar-stream";
import { InvalidArgumentError, isAlreadyExists } from "../../errdefs/index.js";
import { tarStream, type Digest, type Digester } from "../../oci/index.js";
import { corruptBlobError, decompress, detectCompression, hashBytes, type BlobProvider, type Compression, type Ingester } from "../../store/index.js";

/** Reads at least `n` bytes (fewer at the end) and gives them back with the rest of the stream. */
async function peek(src: AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; all: AsyncIterable<Buffer> }> {
  const it = src[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let have = 0;
  let ended = false;
  while (have < n) {
    const r = await it.next();
    if (r.done === true) {
      ended = true;
      break;
    }
    const chunk = Buffer.from(r.value);
    chunks.push(chunk);
    have += chunk.length;
  }
  const head = Buffer.concat(chunks);
  const all = (async function* () {
    try {
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const r = await it.next();
        if (r.done === true) return;
        yield Buffer.from(r.value);
      }
    } finally {
      await it.return?.();
    }
  })();
  return { head, all };
}

/**
 * The stream, decompressed when it starts with gzip or zstd magic (the snapshotter's
 * decompressor, with its zstd window limits), and the compression found.
 */
export async function decompressed(src: AsyncIterable<Buffer>): Promise<{ compression: Compression; stream: AsyncIterable<Buffer> }> {
  const { head, all } = await peek(src, 4);
  return { compression: detectCompression(head), stream: decompress(all) as AsyncIterable<Buffer> };
}

/** Passes chunks through, feeding them to `d`. */
export function tap(d: Digester): (src: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (src) {
    for await (const chunk of src) {
      d.update(chunk);
      yield chunk;
    }
  };
}

/** Runs `src` through `d` and discards it; for counting and digesting a stream. */
export async function drainInto(src: AsyncIterable<Buffer>, d: Digester): Promise<void> {
  for await (const chunk of src) d.update(chunk);
}

/**
 * A small blob's bytes, checked against its digest: FailedPreconditionError (naming `what`,
 * e.g. the image, when given) when the stored bytes are corrupt, InvalidArgumentError when
 * the blob is larger than `limit`.
 */
export async function readSmallBlob(content: BlobProvider, digest: Digest, opts: { what?: string; limit?: number } = {}): Promise<Buffer> {
  const limit = opts.limit ?? 16 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of (await content.reader(digest)) as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > limit) throw new InvalidArgumentError(`blob ${digest} is larger than ${limit} bytes, too large for a manifest or config`);
    chunks.push(c);
  }
  const bytes = Buffer.concat(chunks);
  const got = hashBytes(bytes, { digest });
  if (got.digest !== digest) throw corruptBlobError({ digest }, got, opts.what !== undefined ? { what: opts.what } : {});
  return bytes;
}

/** A fresh ingest ref, so a load never resumes someone else's partial ingest. */
export function ingestRef(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString("hex")}`;
}

/**
 * Writes `src` into the content store. With `expected`, the bytes must have that
 * digest (and size when given): a mismatch is reported by `onMismatch(actual)`.
 * An already stored blob counts as written (its bytes are not read again).
 */
export async function ingest(
  content: Ingester,
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: { ref: string; expected?: { digest: Digest; size?: number }; onMismatch?: (actual: Digest, size: number) => Error },
): Promise<{ digest: Digest; size: number }> {
  let w;
  try {
    w = await content.writer({ ref: opts.ref, ...(opts.expected ? { expected: opts.expected } : {}) });
  } catch (err) {
    if (isAlreadyExists(err) && opts.expected) {
      let size = 0;
      for await (const chunk of src) size += chunk.byteLength;
      return { digest: opts.expected.digest, size: opts.expected.size ?? size };
    }
    throw err;
  }
  try {
    let size = w.offset;
    for await (const chunk of src) {
      await w.write(chunk);
      size += chunk.byteLength;
    }
    const actual = w.digest();
    const digest = opts.expected?.digest ?? actual;
    if (actual !== digest || (opts.expected?.size !== undefined && opts.expected.size !== size)) {
      throw opts.onMismatch?.(actual, size) ?? new InvalidArgumentError(`content is ${actual} (${size} bytes), expected ${digest}`);
    }
    try {
      await w.commit({ digest, size });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    return { digest, size };
  } catch (err) {
    await w.abort().catch(() => undefined);
    throw err;
  }
}

/** Stores bytes in hand under their digest (a manifest or config built here). */
export async function ingestBytes(content: Ingester, bytes: Uint8Array, digest: Digest): Promise<void> {
  await ingest(content, [bytes], { ref: ingestRef("put"), expected: { digest, size: bytes.byteLength } });
}

type HeaderArgument = Parameters<Pack["entry"]>[0];

/**
 * Writes a tar to a stream, one entry at a time, each body streamed with back-pressure.
 * Entries get mtime 0 and root ownership: an archive's content is its blobs, not its files.
 */
export class TarWriter {
  readonly #pack: Pack;
  readonly #closed = new AbortController();

  constructor() {
    this.#pack = tarStream().pack();
    this.#pack.once("close", () => this.#closed.abort(new Error("tar stream closed")));
  }

  /** The tar bytes. */
  get readable(): AsyncIterable<Buffer> {
    return this.#pack as AsyncIterable<Buffer>;
  }

  async dir(name: string): Promise<void> {
    await this.#entry({ name: name.endsWith("/") ? name : `${name}/`, type: "directory", mode: 0o755, size: 0 });
  }

  async file(name: string, data: Uint8Array): Promise<void> {
    await this.#entry({ name, type: "file", mode: 0o644, size: data.byteLength }, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  /** Adds a file of exactly `size` bytes from `src`. */
  async stream(name: string, size: number, src: AsyncIterable<Buffer>): Promise<void> {
    const { done, sink } = this.#open({ name, type: "file", mode: 0o644, size });
    sink.on("error", () => {}); // reported through `done`
    try {
      let written = 0;
      for await (const chunk of src) {
        written += chunk.byteLength;
        if (written > size) throw new InvalidArgumentError(`archive entry ${name}: source gave more than ${size} bytes`);
        if (!sink.write(chunk)) await once(sink, "drain", { signal: this.#closed.signal });
      }
      if (written !== size) throw new InvalidArgumentError(`archive entry ${name}: source gave ${written} bytes, expected ${size}`);
    } catch (err) {
      this.#pack.destroy(err as Error);
      throw err;
    }
    sink.end(null);
    await done;
  }

  finalize(): void {
    this.#pack.finalize();
  }

  destroy(err: Error): void {
    this.#pack.destroy(err);
  }

  async #entry(h: HeaderArgument, body?: Buffer): Promise<void> {
    await this.#open(h, body).done;
  }

  #open(h: HeaderArgument, body?: Buffer): { done: Promise<void>; sink: ReturnType<Pack["entry"]> } {
    let settle: (err?: Error | null) => void = () => {};
    const signal = this.#closed.signal;
    const done = new Promise<void>((resolve, reject) => {
      const onClose = (): void => reject(signal.reason as Error);
      if (signal.aborted) onClose();
      signal.addEventListener("abort", onClose, { once: true });
      settle = (err) => {
        signal.removeEventListener("abort", onClose);
        if (err) reject(err);
        else resolve();
      };
    });
    done.catch(() => {}); // awaited by the caller
    const header: HeaderArgument = { uid: 0, gid: 0, mtime: new Date(0), uname: "", gname: "", ...h };
    const sink = body === undefined ? this.#pack.entry(header, (err) => settle(err)) : this.#pack.entry(header, body, (err) => settle(err));
    return { done, sink };
  }
}
