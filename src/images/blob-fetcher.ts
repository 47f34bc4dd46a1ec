/**
 * Brings blobs into the content store: one download per digest however many pulls
 * want it, at most N at once, resumed from what an interrupted download left in the
 * ingest, verified by the content store's commit (size and digest).
 *
 * A blob already stored is checked before a pull relies on it, since its file can change
 * after the commit verified it (`readStored`, `checkStored`); one that fails the check is
 * deleted, so the pull downloads it again.
 */
import { FailedPreconditionError, isAlreadyExists, isNotFound } from "../errdefs/index.js";
import type { Descriptor, Digest } from "../oci/index.js";
import { recycleChunk } from "../registry/client/index.js";
import { GrowingFile, hashBlob, hashBytes, matchesBlob, readBlob, type ContentStore, type FileFeed, type Info } from "../store/index.js";
import { Limiter, SingleFlight } from "../concurrency/index.js";
import { SMALL_BLOB_BYTES, SmallBlobCache } from "./small-blobs.js";
import type { LayerStatus, PullClient } from "./types.js";

/** The ingest a download of `digest` writes to; a later pull resumes it. */
function ingestRef(digest: Digest): string {
  return `pull-${digest}`;
}

/** The ingest of bytes already in hand (a manifest or config). */
function putRef(digest: Digest): string {
  return `put-${digest}`;
}

const WRITE_BATCH_BYTES = 256 << 10;

/**
 * Content label a layer blob gets once a pull has re-hashed it and found it intact: its size
 * and commit time (the file's mtime) then. While both are unchanged the blob is trusted
 * without reading it again; any write to the file changes its mtime, so a corrupted blob is
 * hashed again at the next pull.
 */
export const VERIFIED_LABEL = "podyard.io/verified";

function verifiedMark(info: Info): string {
  return `${info.size}@${info.createdAt}`;
}

export type BlobProgress = (status: LayerStatus, current?: number, total?: number) => void;

/** The feed of one download, once it has opened its ingest (none when the blob turned out to be stored already). */
interface FeedSlot {
  readonly feed: Promise<GrowingFile | undefined>;
  resolve(feed: GrowingFile | undefined): void;
  reject(err: unknown): void;
}

/** Finished downloads whose feeds are kept, for extractions that start after their download ended. */
const FINISHED_FEEDS = 64;

function feedSlot(): FeedSlot {
  let resolve!: (feed: GrowingFile | undefined) => void;
  let reject!: (err: unknown) => void;
  const feed = new Promise<GrowingFile | undefined>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  feed.catch(() => undefined); // the download reports its own failure
  return { feed, resolve, reject };
}

export class BlobFetcher {
  readonly #content: ContentStore;
  readonly #limiter: Limiter;
  readonly #flights = new SingleFlight<void>();
  /** Downloads in flight, for readers that follow them (`feed`). */
  readonly #feeds = new Map<Digest, FeedSlot>();
  /** The feeds of the last downloads that finished, at the blob's file (from the ingest's writer). */
  readonly #finished = new Map<Digest, GrowingFile>();
  /** Checks of stored blobs in flight: one per digest, however many pulls rely on it. */
  readonly #checks = new SingleFlight<boolean>();
  /** Stored blobs whose leftover ingests were looked for already (see #storedInfo). */
  readonly #swept = new Set<Digest>();
  /** Manifests and configs read and verified before (see small-blobs.ts). */
  readonly #small = new SmallBlobCache();

  constructor(content: ContentStore, opts: { concurrency?: number } = {}) {
    this.#content = content;
    this.#limiter = new Limiter(opts.concurrency ?? 3);
  }

  /** True when the blob is already stored. */
  async has(digest: Digest): Promise<boolean> {
    return (await this.#content.info(digest)) !== undefined;
  }

  /** Stores `desc` from `client` unless it is already there. */
  async fetch(client: PullClient, desc: Descriptor, progress: BlobProgress = () => {}): Promise<void> {
    if (await this.isStored(desc.digest)) {
      progress("Already exists");
      return;
    }
    await this.#flights.do(desc.digest, async () => {
      const slot = feedSlot();
      this.#feeds.set(desc.digest, slot);
      try {
        await this.#limiter.run(() => this.#download(client, desc, progress, slot));
      } catch (err) {
        slot.reject(err);
        throw err;
      } finally {
        this.#feeds.delete(desc.digest);
      }
    });
    progress("Download complete", desc.size, desc.size);
  }

  /**
   * The bytes of `desc` as they arrive: the feed of its download in flight (from when the
   * download opens its ingest), or of a download that just finished. The feed completes
   * once the blob is verified and stored, and fails with the download. Undefined for a blob
   * stored otherwise: read it from the content store.
   */
  async feed(desc: Descriptor): Promise<FileFeed | undefined> {
    const slot = this.#feeds.get(desc.digest);
    if (slot !== undefined) return slot.feed;
    const info = await this.#content.info(desc.digest);
    if (info !== undefined) return this.#finished.get(desc.digest);
    this.#finished.delete(desc.digest);
    const late = this.#feeds.get(desc.digest);
    if (late !== undefined) return late.feed;
    throw new FailedPreconditionError(`blob ${desc.digest} is neither stored nor being downloaded`);
  }

  /** Stores bytes already in hand (a manifest or config just fetched) under their digest. */
  async put(desc: Descriptor, bytes: Buffer): Promise<void> {
    if (await this.isStored(desc.digest)) return;
    const w = await this.#content.writer({ ref: putRef(desc.digest), expected: { digest: desc.digest, size: bytes.length } });
    try {
      if (w.offset > 0) {
        await w.abort();
        return this.put(desc, bytes);
      }
      await w.write(bytes);
      await w.commit({ digest: desc.digest, size: bytes.length });
    } catch (err) {
      if (isAlreadyExists(err)) return;
      await w.abort().catch(() => undefined);
      throw err;
    }
  }

  /**
   * The bytes of a small stored blob (a manifest or config), read whole and checked against
   * its digest (which fixes its size too: a size a registry announced may be wrong where the
   * digest cannot be); undefined when it is not stored or was corrupt (and is now deleted).
   */
  async readStored(digest: Digest): Promise<Buffer | undefined> {
    const info = await this.#storedInfo(digest);
    if (info === undefined) return undefined;
    const kept = this.#small.get(info);
    if (kept !== undefined) return kept;
    let bytes: Buffer;
    try {
      bytes = await readBlob(this.#content, digest);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    if (hashBytes(bytes, { digest }).digest === digest) {
      this.#small.set(info, bytes);
      return bytes;
    }
    await this.#discard(digest);
    return undefined;
  }

  /**
   * The bytes of a stored blob, as the content store's readBlob gives them (NotFoundError
   * when absent), from memory for a small blob read before whose file is unchanged since.
   */
  async readBlob(digest: Digest): Promise<Buffer> {
    const info = await this.#content.info(digest);
    const kept = info === undefined ? undefined : this.#small.get(info);
    if (kept !== undefined) return kept;
    const bytes = await readBlob(this.#content, digest);
    // kept only when intact: a corrupt one is read (and reported by its reader) every time
    if (info !== undefined && bytes.length <= SMALL_BLOB_BYTES && hashBytes(bytes, { digest }).digest === digest) this.#small.set(info, bytes);
    return bytes;
  }

  /**
   * True when the blob is stored and intact: its size is `desc.size` and its bytes hash to
   * its digest, unless VERIFIED_LABEL says they did and the file has not changed since.
   * A blob that fails is deleted (and false returned), so that it is downloaded again.
   */
  async checkStored(desc: Descriptor): Promise<boolean> {
    return this.#checks.do(desc.digest, async () => {
      const info = await this.#storedInfo(desc.digest);
      if (info === undefined) return false;
      if (info.size === desc.size && info.labels[VERIFIED_LABEL] === verifiedMark(info)) return true;
      let intact = false;
      if (info.size === desc.size) {
        try {
          intact = matchesBlob(await hashBlob(this.#content, desc.digest), desc);
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      }
      if (!intact) {
        await this.#discard(desc.digest);
        return false;
      }
      await this.#content.setLabels(desc.digest, { ...info.labels, [VERIFIED_LABEL]: verifiedMark(info) }).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      return true;
    });
  }

  /** Deletes a blob that failed its check (another pull may have deleted it first). */
  async #discard(digest: Digest): Promise<void> {
    this.#swept.delete(digest);
    this.#small.delete(digest);
    await this.#content.delete(digest).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }

  /**
   * True when the blob is stored. A process killed between a commit and the removal of
   * its ingest leaves the ingest behind: it is dropped here.
   */
  async isStored(digest: Digest): Promise<boolean> {
    return (await this.#storedInfo(digest)) !== undefined;
  }

  /**
   * The stored blob's info (undefined when absent), its leftover ingests dropped. Only a
   * process that died between a commit and the ingest's removal leaves one, so they are
   * looked for once per blob in this process's life (two directory checks saved per pull).
   */
  async #storedInfo(digest: Digest): Promise<Info | undefined> {
    const info = await this.#content.info(digest);
    if (info === undefined) {
      this.#swept.delete(digest);
      return undefined;
    }
    if (!this.#swept.has(digest)) {
      await Promise.all([ingestRef(digest), putRef(digest)].map((ref) => this.#content.abort(ref).catch(() => undefined)));
      this.#swept.add(digest);
    }
    return info;
  }

  async #download(client: PullClient, desc: Descriptor, progress: BlobProgress, slot: FeedSlot): Promise<void> {
    const stored = (): void => slot.resolve(undefined);
    if (await this.has(desc.digest)) return stored();
    const w = await this.#content.writer({ ref: ingestRef(desc.digest), expected: { digest: desc.digest, size: desc.size } });
    let settled = false;
    let feed: GrowingFile | undefined;
    try {
      let offset = w.offset;
      if (offset > desc.size) {
        await w.abort();
        return this.#download(client, desc, progress, slot);
      }
      if (w.path !== undefined) {
        feed = new GrowingFile(w.path, offset);
        slot.resolve(feed);
      }
      progress("Downloading", offset, desc.size);
      if (offset < desc.size) {
        // The content store's commit checks the digest, so the client checks only the size.
        const stream = await client.fetchBlob(desc.digest, { offset, size: desc.size, verify: false });
        // Write in batches of about 256 KiB (fewer, larger writes than the network's 64 KiB
        // chunks), one write in flight while the next batch is read from the network.
        let batch: Buffer[] = [];
        let batched = 0;
        let writing: Promise<void> = Promise.resolve();
        const flush = async (): Promise<void> => {
          if (batched === 0) return;
          const data = batch.length === 1 ? (batch[0] as Buffer) : Buffer.concat(batch, batched);
          if (batch.length > 1) for (const b of batch) recycleChunk(b);
          const n = batched;
          batch = [];
          batched = 0;
          await writing;
          writing = w.write(data).then(() => {
            recycleChunk(data); // written and hashed: its read buffer can take the next bytes
            offset += n;
            feed?.grow(offset);
            progress("Downloading", offset, desc.size);
          });
          // a failed write surfaces at the next await of `writing`; keep it from being unhandled meanwhile
          writing.catch(() => undefined);
        };
        for await (const chunk of stream) {
          batch.push(chunk as Buffer);
          batched += (chunk as Buffer).length;
          if (batched >= WRITE_BATCH_BYTES) await flush();
        }
        await flush();
        await writing;
      }
      progress("Verifying Checksum", offset, desc.size);
      try {
        await w.commit({ digest: desc.digest, size: desc.size });
      } catch (err) {
        if (!isAlreadyExists(err)) {
          // wrong bytes: nothing of them may stay, not even for a resume
          await w.abort().catch(() => undefined);
          settled = true;
          throw err;
        }
      }
      settled = true;
      if (feed !== undefined && w.path !== undefined) {
        feed.finish(desc.size, w.path); // the writer's path is the blob's file now
        this.#finished.delete(desc.digest);
        this.#finished.set(desc.digest, feed);
        for (const d of this.#finished.keys()) if (this.#finished.size > FINISHED_FEEDS) this.#finished.delete(d);
      } else stored();
    } catch (err) {
      feed?.fail(err);
      throw err;
    } finally {
      // an interrupted download keeps its ingest, so the next pull resumes it
      if (!settled) await w.close().catch(() => undefined);
    }
  }
}
