/**
 * The registry's global content-addressed blob store: `blobs/<alg>/<2 hex>/<hex>`.
 * A blob becomes visible only by an atomic rename of a fully verified file, so a
 * partial or mismatched blob is never served. Which repositories may read a blob
 * is decided above, by the repository links.
 */
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, rename, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Clock } from "../../../clock/index.js";
import { errnoCode } from "../../../errdefs/index.js";
import { readFileIfExists } from "../../../fsutil/index.js";
import { digestAlgorithm, digestEncoded, isDigest, type Digest } from "../../../oci/index.js";
import { DURABLE, fsyncDir, listDir, removeFile, writeFileAtomic } from "./fs-util.js";

export interface BlobInfo {
  digest: Digest;
  size: number;
  mtimeMs: number;
}

export interface BlobStoreOptions {
  /** The time `touch` stamps on blobs, which garbage collection compares with its own clock. */
  clock: Clock;
}

export class BlobStore {
  readonly #root: string;
  readonly #clock: Clock;

  constructor(root: string, opts: BlobStoreOptions) {
    this.#root = join(root, "blobs");
    this.#clock = opts.clock;
  }

  /** The file that holds a blob (`digest` must already be validated). */
  path(digest: Digest): string {
    const hex = digestEncoded(digest);
    return join(this.#root, digestAlgorithm(digest), hex.slice(0, 2), hex);
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.path(digest));
      // whole milliseconds, as the clock that `touch` stamps: utimes goes through a float of seconds
      return { digest, size: st.size, mtimeMs: Math.round(st.mtimeMs) };
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
  }

  read(digest: Digest, range?: { start: number; end: number }): ReadStream {
    // 1 MiB reads: far fewer chunks through the response than the default 64 KiB
    return createReadStream(this.path(digest), { highWaterMark: 1 << 20, ...(range ? { start: range.start, end: range.end } : {}) });
  }

  readAll(digest: Digest): Promise<Buffer | undefined> {
    return readFileIfExists(this.path(digest));
  }

  /**
   * Moves a verified file into place under its digest. The caller has fsynced it and
   * checked its digest. If the blob already exists the file is dropped: same digest,
   * same bytes. Either way the blob's mtime is refreshed, which tells the garbage
   * collector it was just written.
   */
  async commitFile(file: string, digest: Digest): Promise<void> {
    const target = this.path(digest);
    await mkdir(dirname(target), { recursive: true });
    await rename(file, target);
    await fsyncDir(dirname(target));
    await this.touch(digest);
  }

  /** Stores small content (a manifest) under its digest, its mtime refreshed as `commitFile` does. */
  async put(digest: Digest, data: Uint8Array): Promise<void> {
    if (!(await this.stat(digest))) await writeFileAtomic(this.path(digest), data, DURABLE);
    await this.touch(digest);
  }

  /**
   * Sets the blob's mtime to the clock's now: what garbage collection reads as the blob's
   * age against its grace period. A blob that is not there is left alone.
   */
  async touch(digest: Digest): Promise<void> {
    const now = this.#clock.now() / 1000;
    try {
      await utimes(this.path(digest), now, now);
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
    }
  }

  async delete(digest: Digest): Promise<boolean> {
    return removeFile(this.path(digest), this.#root);
  }

  /** Every stored blob. Files that are not named like a digest (temp files) are skipped. */
  async *list(): AsyncGenerator<BlobInfo> {
    for (const alg of await listDir(this.#root)) {
      for (const prefix of await listDir(join(this.#root, alg))) {
        for (const hex of await listDir(join(this.#root, alg, prefix))) {
          const digest = `${alg}:${hex}`;
          if (!isDigest(digest)) continue;
          const info = await this.stat(digest);
          if (info) yield info;
        }
      }
    }
  }
}
