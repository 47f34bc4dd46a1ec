/**
 * The writer of `LocalContentStore` (containerd `content/local/writer.go`): bytes go
 * straight to `ingest/<h>/data` while a digester follows them; `commit` fsyncs, checks
 * size and digest, and links the file into `blobs/<alg>/<hex>`, read-only.
 */
import { chmodSync, fstatSync, linkSync, mkdirSync, renameSync, statSync, utimesSync, writeSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Clock } from "../../clock/index.js";
import { AlreadyExistsError, errnoCode, FailedPreconditionError, isNotFound } from "../../errdefs/index.js";
import { digestAlgorithm, type Digest, type Digester } from "../../oci/index.js";
import { noSpaceError, syncDir } from "../../fsutil/index.js";
import { checkCommitOptions } from "./check-args.js";
import type { BlobWriter, CommitOptions } from "./content.js";
import { digestFile, removeIngestDir, writeTimestamp } from "./ingest-dir.js";

/** How often (in clock time) a writer persists `updatedat` while writing. */
const UPDATED_AT_INTERVAL_MS = 1_000;

/** What a writer needs from its store. */
export interface WriterHost {
  readonly clock: Clock;
  blobPath(d: Digest): string;
  /**
   * Sets the labels of a blob just committed: exactly `labels` for a new blob, `labels`
   * merged into the current ones when the blob already `existed`.
   */
  commitLabels(d: Digest, labels: Record<string, string> | undefined, existed: boolean): Promise<void>;
  /** The store's `abort(ref)`: removes the ingest unless a writer holds it. */
  abort(ref: string): Promise<void>;
}

export interface LocalWriterOptions {
  ref: string;
  /** The ingest directory. */
  dir: string;
  /** The open `data` file, positioned by explicit offsets. */
  file: FileHandle;
  digester: Digester;
  total?: number;
  /** When `updatedat` was last written. */
  updatedAt: number;
  host: WriterHost;
  /** Releases the ref's lock; called exactly once, when the writer closes. */
  release: () => void;
}

export class LocalWriter implements BlobWriter {
  readonly ref: string;
  #dir: string;
  /** The blob's file, once a commit has put the bytes there (or found them there). */
  #committed: string | undefined;
  #file: FileHandle | undefined;
  #digester: Digester;
  #offset: number;
  #total: number | undefined;
  #updatedAt: number;
  #host: WriterHost;
  #release: (() => void) | undefined;
  /** Set once a commit has removed the ingest (committed, already existed, or wrong digest). */
  #ingestGone = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: LocalWriterOptions) {
    this.ref = opts.ref;
    this.#dir = opts.dir;
    this.#file = opts.file;
    this.#digester = opts.digester;
    this.#offset = opts.digester.size;
    this.#total = opts.total;
    this.#updatedAt = opts.updatedAt;
    this.#host = opts.host;
    this.#release = opts.release;
  }

  get offset(): number {
    return this.#offset;
  }

  get path(): string {
    return this.#committed ?? join(this.#dir, "data");
  }

  digest(): Digest {
    return this.#digester.digest();
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      const file = this.#open("write to");
      try {
        // writeSync: the bytes go to the page cache at once, without a trip through libuv's
        // thread pool (which a pull keeps busy inflating layers)
        for (let done = 0; done < chunk.length;) done += writeSync(file.fd, chunk, done, chunk.length - done, this.#offset + done);
      } catch (err) {
        // Part of the chunk may be on disk; the digester no longer matches the file.
        // A new writer re-hashes what is there. The write's error is the one to tell
        // (on a full disk, saving `updatedat` fails too).
        await this.#closeFile().catch(() => undefined);
        throw noSpaceError(err, this.path);
      }
      this.#digester.update(chunk);
      this.#offset += chunk.length;
      const now = this.#host.clock.now();
      if (now - this.#updatedAt >= UPDATED_AT_INTERVAL_MS) {
        this.#updatedAt = now;
        await writeTimestamp(join(this.#dir, "updatedat"), now);
      }
    });
  }

  commit(expected: CommitOptions): Promise<void> {
    return this.#serial(async () => {
      const file = this.#open("commit");
      this.#file = undefined;
      try {
        await this.#commit(file, expected);
      } finally {
        this.#releaseOnce();
      }
    });
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#file === undefined) return;
      await this.#closeFile();
    });
  }

  abort(): Promise<void> {
    return this.#serial(async () => {
      if (this.#file === undefined) {
        if (this.#ingestGone) return;
        // Closed, or a commit failed and kept the ingest: remove it as the store would,
        // unless another writer holds the ref now.
        await this.#host.abort(this.ref).catch((err: unknown) => {
          if (!isNotFound(err)) throw err;
        });
        return;
      }
      const file = this.#file;
      this.#file = undefined;
      try {
        await file.close();
        await removeIngestDir(this.#dir);
      } finally {
        this.#releaseOnce();
      }
    });
  }

  async #commit(file: FileHandle, expected: CommitOptions): Promise<void> {
    let closed = false;
    try {
      const want = checkCommitOptions(this.ref, expected);
      await file.sync();
      // the rest are quick metadata calls, made synchronously (see removeIngestDir); the fsyncs stay async
      const { size } = fstatSync(file.fd);
      await file.close();
      closed = true;

      const wantSize = expected.size ?? this.#total;
      if (wantSize !== undefined && size !== wantSize) {
        throw new FailedPreconditionError(`unexpected commit size ${size}, expected ${wantSize}`);
      }
      const data = join(this.#dir, "data");
      const alg = digestAlgorithm(want.digest);
      const got = alg === this.#digester.algorithm ? this.#digester.digest() : await digestFile(data, alg);
      if (got !== want.digest) {
        await removeIngestDir(this.#dir);
        this.#ingestGone = true;
        throw new FailedPreconditionError(`unexpected commit digest ${got}, expected ${want.digest}`);
      }

      const target = this.#host.blobPath(got);
      const created = mkdirSync(dirname(target), { recursive: true });
      const now = this.#host.clock.now() / 1000;
      utimesSync(data, now, now);
      chmodSync(data, 0o444);
      const placed = placeBlob(data, target);
      if (placed) {
        await syncDir(dirname(target));
        if (created !== undefined) await syncDir(dirname(dirname(target)));
      }
      await removeIngestDir(this.#dir);
      this.#ingestGone = true;
      this.#committed = target;
      await this.#host.commitLabels(got, want.labels, !placed);
      if (!placed) throw new AlreadyExistsError(`content ${got}: already exists`);
    } finally {
      if (!closed) await file.close().catch(() => undefined);
    }
  }

  #open(action: string): FileHandle {
    if (this.#file === undefined) throw new FailedPreconditionError(`cannot ${action} writer of ref ${this.ref}: it is closed`);
    return this.#file;
  }

  async #closeFile(): Promise<void> {
    const file = this.#file;
    this.#file = undefined;
    try {
      if (file !== undefined) {
        await file.close();
        this.#updatedAt = this.#host.clock.now();
        await writeTimestamp(join(this.#dir, "updatedat"), this.#updatedAt);
      }
    } finally {
      this.#releaseOnce();
    }
  }

  #releaseOnce(): void {
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Links the finished ingest onto the blob path. `link` fails atomically with EEXIST
 * when the blob is already there, so it never replaces a blob a reader may hold open.
 * Returns false when the blob already existed. Falls back to stat + rename on
 * filesystems without hard links.
 */
function placeBlob(data: string, target: string): boolean {
  try {
    linkSync(data, target);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "ENOSYS") throw err;
  }
  try {
    statSync(target);
    return false;
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
  renameSync(data, target);
  return true;
}
