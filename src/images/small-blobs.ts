/**
 * The bytes of small stored blobs (manifests, configs) a long-lived node reads on every
 * pull and image status, kept in memory once they were read and found to hash to their
 * digest. An entry is used only while the blob's file has the size and modification time
 * it had then (as VERIFIED_LABEL does for layers): any write to the file changes its
 * mtime, so a blob changed on disk is read and checked again.
 */
import type { Digest } from "../oci/index.js";
import type { Info } from "../store/index.js";

/** Blobs larger than this are not kept (an image config is a few KiB; an index rarely more). */
export const SMALL_BLOB_BYTES = 256 << 10;
const MAX_ENTRIES = 512;

function mark(info: Info): string {
  return `${info.size}@${info.createdAt}`;
}

export class SmallBlobCache {
  readonly #entries = new Map<Digest, { mark: string; bytes: Buffer }>();

  /** The bytes kept for the blob `info` describes, if its file is unchanged since. */
  get(info: Info): Buffer | undefined {
    const e = this.#entries.get(info.digest);
    if (e === undefined) return undefined;
    if (e.mark === mark(info)) return e.bytes;
    this.#entries.delete(info.digest);
    return undefined;
  }

  /** Keeps `bytes`, already checked against the digest, for the blob `info` describes. */
  set(info: Info, bytes: Buffer): void {
    if (bytes.length > SMALL_BLOB_BYTES || bytes.length !== info.size) return;
    this.#entries.delete(info.digest);
    this.#entries.set(info.digest, { mark: mark(info), bytes });
    for (const d of this.#entries.keys()) {
      if (this.#entries.size <= MAX_ENTRIES) break;
      this.#entries.delete(d);
    }
  }

  delete(digest: Digest): void {
    this.#entries.delete(digest);
  }
}
