/**
 * Reading a file while it is still being written: a layer is extracted from its blob as
 * the blob downloads into the content store, instead of after. The writer publishes how
 * many bytes are on disk (`GrowingFile`); a reader (`followFile`) reads up to there and
 * waits for more. Bytes read before the writer verifies the whole blob are not trusted
 * yet: the reader ends only once the writer calls `finish`, after its digest check, and
 * fails when the writer fails, so nothing extracted from a wrong blob is ever committed.
 */
import { readSync } from "node:fs";
import { open } from "node:fs/promises";
import { errnoCode } from "../../errdefs/index.js";
import { BufferPool } from "../../fsutil/index.js";

export interface FileFeed {
  /** The file; it can change once, when the finished file moves to its final place. */
  readonly path: string;
  /** Bytes on disk that can be read. */
  readonly available: number;
  /** True once the writer is done and the bytes checked: `available` is the size. */
  readonly complete: boolean;
  /** Resolves at the next change (more bytes, a new path, completion); rejects when the writer failed. */
  changed(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The writer's side of a FileFeed. */
export class GrowingFile implements FileFeed {
  #path: string;
  #available: number;
  #complete = false;
  #error: { err: unknown } | undefined;
  #waiters: Waiter[] = [];

  constructor(path: string, available = 0, complete = false) {
    this.#path = path;
    this.#available = available;
    this.#complete = complete;
  }

  get path(): string {
    return this.#path;
  }

  get available(): number {
    return this.#available;
  }

  get complete(): boolean {
    return this.#complete;
  }

  changed(): Promise<void> {
    if (this.#error) return Promise.reject(this.#error.err);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** `available` bytes are on disk now. */
  grow(available: number): void {
    if (available <= this.#available) return;
    this.#available = available;
    this.#wake();
  }

  /** The file is whole and checked, `size` bytes, now at `path`. */
  finish(size: number, path: string = this.#path): void {
    this.#available = size;
    this.#path = path;
    this.#complete = true;
    this.#wake();
  }

  /** The writer failed: readers fail with `err`. */
  fail(err: unknown): void {
    if (this.#complete || this.#error) return;
    this.#error = { err };
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }
}

/** The default size of a followFile read (and of the buffers of a pool it reads into). */
export const FOLLOW_READ_BYTES = 512 << 10;

/**
 * This thread's buffers for following files (one pool per module instance, so per thread):
 * pass it as `pool`, and `followBuffers.recycle` each chunk once done with it.
 */
export const followBuffers = new BufferPool(FOLLOW_READ_BYTES);

export interface FollowOptions {
  /** Largest chunk (default FOLLOW_READ_BYTES; with `pool`, the pool's buffer size). */
  readBytes?: number;
  /**
   * Read into buffers lent from this pool: the consumer gives each chunk back with
   * `pool.recycle` once done with it (decompress's `recycle` does for gzip input).
   */
  pool?: BufferPool;
  /**
   * Read with readSync: no trip through libuv's thread pool (busy inflating layers) for
   * bytes just written, so still in the page cache. For worker threads, whose event
   * loop has nothing else to do meanwhile.
   */
  sync?: boolean;
}

/** The bytes of `feed` from the start, as they arrive, in chunks of up to `readBytes`. */
export async function* followFile(feed: FileFeed, opts: FollowOptions | number = {}): AsyncGenerator<Buffer> {
  const { pool, sync = false, readBytes = pool?.size ?? FOLLOW_READ_BYTES } = typeof opts === "number" ? { readBytes: opts } : opts;
  if (pool !== undefined && readBytes > pool.size) throw new RangeError(`readBytes ${readBytes} exceeds the pool's buffers of ${pool.size}`);
  // The writer may move the file (ingest → blob) between our look at the path and the open.
  let file;
  for (;;) {
    const path = feed.path;
    try {
      file = await open(path, "r");
      break;
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
      if (feed.path !== path) continue;
      if (feed.complete) throw err;
      await feed.changed();
    }
  }
  try {
    let position = 0;
    for (;;) {
      if (position < feed.available) {
        const want = Math.min(readBytes, feed.available - position);
        const buf = pool?.take() ?? Buffer.allocUnsafe(want);
        const bytesRead = sync ? readSync(file.fd, buf, 0, want, position) : (await file.read(buf, 0, want, position)).bytesRead;
        if (bytesRead === 0) throw new Error(`${feed.path}: ends at ${position} bytes, ${feed.available} were written`);
        position += bytesRead;
        pool?.lend(buf);
        yield bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        continue;
      }
      if (feed.complete) return;
      await feed.changed();
    }
  } finally {
    await file.close();
  }
}
