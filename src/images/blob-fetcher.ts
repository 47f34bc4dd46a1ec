/**
 * Brings blobs into the content store: one download per digest however many pulls
 * want it, at most N at once, resumed from what an interrupted download left in the
 * ingest, verified by the content store's commit (size and digest).
 */
import { isAlreadyExists } from "../errdefs/index.js";
import type { Descriptor, Digest } from "../oci/index.js";
import type { ContentStore } from "../store/index.js";
import { Limiter, SingleFlight } from "./limiter.js";
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

export type BlobProgress = (status: LayerStatus, current?: number, total?: number) => void;

export class BlobFetcher {
  readonly #content: ContentStore;
  readonly #limiter: Limiter;
  readonly #flights = new SingleFlight<void>();

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
    await this.#flights.do(desc.digest, () => this.#limiter.run(() => this.#download(client, desc, progress)));
    progress("Download complete", desc.size, desc.size);
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
   * True when the blob is stored. A process killed between a commit and the removal of
   * its ingest leaves the ingest behind: it is dropped here.
   */
  async isStored(digest: Digest): Promise<boolean> {
    if (!(await this.has(digest))) return false;
    for (const ref of [ingestRef(digest), putRef(digest)]) await this.#content.abort(ref).catch(() => undefined);
    return true;
  }

  async #download(client: PullClient, desc: Descriptor, progress: BlobProgress): Promise<void> {
    if (await this.has(desc.digest)) return;
    const w = await this.#content.writer({ ref: ingestRef(desc.digest), expected: { digest: desc.digest, size: desc.size } });
    let settled = false;
    try {
      let offset = w.offset;
      if (offset > desc.size) {
        await w.abort();
        return this.#download(client, desc, progress);
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
          const n = batched;
          batch = [];
          batched = 0;
          await writing;
          writing = w.write(data).then(() => {
            offset += n;
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
    } finally {
      // an interrupted download keeps its ingest, so the next pull resumes it
      if (!settled) await w.close().catch(() => undefined);
    }
  }
}
