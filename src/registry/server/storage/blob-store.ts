/**
 * The registry's global content-addressed blob store: `blobs/<alg>/<2 hex>/<hex>`.
 * A blob becomes visible only by an atomic rename of a fully verified file, so a
 * partial or mismatched blob is never served. Which repositories may read a blob
 * is decided above, by the repository links.
 */
import { createReadStream, type ReadStream } from "node:fs";
import { mkdir, rename, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { errnoCode } from "../../../errdefs/index.js";
import { readFileIfExists } from "../../../fsutil/index.js";
import { digestAlgorithm, digestEncoded, isDigest, type Digest } from "../../../oci/index.js";
import { DURABLE, fsyncDir, listDir, removeFile, writeFileAtomic } from "./fs-util.js";

export interface BlobInfo {
  digest: Digest;
  size: number;
  mtimeMs: number;
}

export class BlobStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = join(root, "blobs");
  }

  /** The file that holds a blob (`digest` must already be validated). */
  path(digest: Digest): string {
    const hex = digestEncoded(digest);
    return join(this.#root, digestAlgorithm(digest), hex.slice(0, 2), hex);
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    try {
      const st = await stat(this.path(digest));
      return { digest, size: st.size, mtimeMs: st.mtimeMs };
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

  /** Stores small content (a manifest) under its digest. */
  async put(digest: Digest, data: Uint8Array): Promise<void> {
    if (await this.stat(digest)) {
      await this.touch(digest);
      return;
    }
    await writeFileAtomic(this.path(digest), data, DURABLE);
  }

  async touch(digest: Digest): Promise<void> {
    const now = new Date();
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
