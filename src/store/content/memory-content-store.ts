/**
 * A content store in memory, for tests (as distribution's `inmemory` storage driver): the
 * same contract as `LocalContentStore` (content-suite.ts runs both), with blobs and ingests
 * held in maps of this instance. Nothing survives the instance, and nothing has a file:
 * its writers have no `path` for a reader to follow while they grow.
 *
 * Written bytes are copied, so a caller may reuse its buffers once a write resolves.
 */
import { Readable } from "node:stream";
import { realClock, type Clock } from "../../clock/index.js";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, UnavailableError, isNotFound } from "../../errdefs/index.js";
import { Digester, digestAlgorithm, type Digest, type DigestAlgorithm } from "../../oci/index.js";
import { checkCommitOptions, checkDigest, checkRange, checkRef, checkSize, checkWriterOptions } from "./check-args.js";
import type { BlobWriter, CommitOptions, ContentStore, Info, IngestStatus, ReadRange, WriterOptions } from "./content.js";
import { validateLabels } from "./validate-labels.js";

export interface MemoryContentStoreOptions {
  /** The source of commit, label and ingest times; the real clock by default. */
  clock?: Clock;
}

interface StoredBlob {
  data: Buffer;
  createdAt: number;
  updatedAt: number;
  labels: Record<string, string>;
}

interface Ingest {
  ref: string;
  chunks: Buffer[];
  offset: number;
  total: number | undefined;
  startedAt: number;
  updatedAt: number;
}

/** What a writer needs from its store. */
interface WriterHost {
  now(): number;
  /** Frees the ref for the next writer. */
  release(ref: string): void;
  /** Drops `ingest`, unless a new ingest under its ref has replaced it. */
  dropIngest(ingest: Ingest): void;
  /** Stores a verified blob (AlreadyExistsError, labels merged, when it is there already). */
  placeBlob(d: Digest, data: Buffer, labels: Record<string, string> | undefined): void;
  /** The store's `abort(ref)`. */
  abort(ref: string): Promise<void>;
}

function statusOf(ingest: Ingest): IngestStatus {
  const status: IngestStatus = { ref: ingest.ref, offset: ingest.offset, startedAt: ingest.startedAt, updatedAt: ingest.updatedAt };
  if (ingest.total !== undefined) status.total = ingest.total;
  return status;
}

function digesterOf(chunks: readonly Buffer[], alg: DigestAlgorithm): Digester {
  const digester = new Digester(alg);
  for (const c of chunks) digester.update(c);
  return digester;
}

function byRef(a: { ref: string }, b: { ref: string }): number {
  return a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
}

export class MemoryContentStore implements ContentStore {
  readonly #clock: Clock;
  readonly #blobs = new Map<Digest, StoredBlob>();
  readonly #ingests = new Map<string, Ingest>();
  /** Refs held by an open writer. */
  readonly #locks = new Set<string>();
  readonly #host: WriterHost;

  constructor(opts: MemoryContentStoreOptions = {}) {
    this.#clock = opts.clock ?? realClock;
    this.#host = {
      now: () => this.#clock.now(),
      release: (ref) => this.#locks.delete(ref),
      dropIngest: (ingest) => {
        if (this.#ingests.get(ingest.ref) === ingest) this.#ingests.delete(ingest.ref);
      },
      placeBlob: (d, data, labels) => this.#placeBlob(d, data, labels),
      abort: (ref) => this.abort(ref),
    };
  }

  async info(d: Digest): Promise<Info | undefined> {
    const dg = checkDigest(d, "blob");
    const blob = this.#blobs.get(dg);
    if (blob === undefined) return undefined;
    return { digest: dg, size: blob.data.length, createdAt: blob.createdAt, updatedAt: blob.updatedAt, labels: { ...blob.labels } };
  }

  async reader(d: Digest, range?: ReadRange): Promise<Readable> {
    const dg = checkDigest(d, "blob");
    const blob = this.#blobs.get(dg);
    if (blob === undefined) throw new NotFoundError(`content ${dg}: not found`);
    const { start, end } = checkRange(dg, blob.data.length, range);
    return Readable.from(end === start ? [] : [blob.data.subarray(start, end)], { objectMode: false });
  }

  async writer(opts: WriterOptions): Promise<BlobWriter> {
    const { ref, expected, total } = checkWriterOptions(opts);
    this.#lock(ref);
    if (expected !== undefined && this.#blobs.has(expected)) {
      this.#locks.delete(ref);
      throw new AlreadyExistsError(`content ${expected}: already exists`);
    }
    let ingest = this.#ingests.get(ref);
    if (ingest !== undefined && total !== undefined && ingest.total !== undefined && ingest.total !== total) {
      ingest = undefined; // another announced size: what is there is not this content
    }
    if (ingest === undefined) {
      const now = this.#clock.now();
      ingest = { ref, chunks: [], offset: 0, total, startedAt: now, updatedAt: now };
      this.#ingests.set(ref, ingest);
    }
    ingest.total ??= total;
    const digester = digesterOf(ingest.chunks, expected === undefined ? "sha256" : digestAlgorithm(expected));
    return new MemoryWriter(this.#host, ingest, digester);
  }

  async status(ref: string): Promise<IngestStatus> {
    checkRef(ref, "status");
    const ingest = this.#ingests.get(ref);
    if (ingest === undefined) throw new NotFoundError(`ingest of ref ${ref}: not found`);
    return statusOf(ingest);
  }

  async listStatuses(): Promise<IngestStatus[]> {
    return [...this.#ingests.values()].map(statusOf).sort(byRef);
  }

  async abort(ref: string): Promise<void> {
    checkRef(ref, "abort");
    if (this.#locks.has(ref)) throw new UnavailableError(`ref ${ref} locked: another writer (or an abort) holds it`);
    if (!this.#ingests.delete(ref)) throw new NotFoundError(`ingest of ref ${ref}: not found`);
  }

  /** Removes every ingest not held by a writer whose last write is more than `olderThanMs` before the clock's now. */
  async pruneIngests(olderThanMs: number): Promise<string[]> {
    checkSize(olderThanMs, "pruneIngests: olderThanMs");
    const cutoff = this.#clock.now() - olderThanMs;
    const removed: string[] = [];
    for (const ingest of this.#ingests.values()) {
      if (this.#locks.has(ingest.ref) || ingest.updatedAt >= cutoff) continue;
      this.#ingests.delete(ingest.ref);
      removed.push(ingest.ref);
    }
    return removed.sort();
  }

  async delete(d: Digest): Promise<void> {
    const dg = checkDigest(d, "blob");
    if (!this.#blobs.delete(dg)) throw new NotFoundError(`content ${dg}: not found`);
  }

  async *walk(): AsyncIterable<Info> {
    for (const d of [...this.#blobs.keys()].sort()) {
      const info = await this.info(d);
      if (info !== undefined) yield info;
    }
  }

  async setLabels(d: Digest, labels: Record<string, string>): Promise<Info> {
    const dg = checkDigest(d, "setLabels: blob");
    const valid = validateLabels(labels);
    const blob = this.#blobs.get(dg);
    if (blob === undefined) throw new NotFoundError(`content ${dg}: not found`);
    blob.labels = valid;
    blob.updatedAt = this.#clock.now();
    return { digest: dg, size: blob.data.length, createdAt: blob.createdAt, updatedAt: blob.updatedAt, labels: { ...valid } };
  }

  /**
   * Makes `data` the blob `d` with `labels`, or merges `labels` into the blob already there
   * and throws AlreadyExistsError.
   */
  #placeBlob(d: Digest, data: Buffer, labels: Record<string, string> | undefined): void {
    const now = this.#clock.now();
    const existing = this.#blobs.get(d);
    if (existing !== undefined) {
      if (labels !== undefined) {
        existing.labels = { ...existing.labels, ...labels };
        existing.updatedAt = now;
      }
      throw new AlreadyExistsError(`content ${d}: already exists`);
    }
    this.#blobs.set(d, { data, createdAt: now, updatedAt: now, labels: { ...labels } });
  }

  #lock(ref: string): void {
    if (this.#locks.has(ref)) throw new UnavailableError(`ref ${ref} locked: another writer (or an abort) holds it`);
    this.#locks.add(ref);
  }
}

/** The writer of `MemoryContentStore`: appends copies of the chunks to the ingest while a digester follows them. */
class MemoryWriter implements BlobWriter {
  readonly ref: string;
  #host: WriterHost;
  #ingest: Ingest;
  #digester: Digester;
  #open = true;
  /** Set once a commit has removed the ingest (committed, already existed, or wrong digest). */
  #ingestGone = false;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(host: WriterHost, ingest: Ingest, digester: Digester) {
    this.ref = ingest.ref;
    this.#host = host;
    this.#ingest = ingest;
    this.#digester = digester;
  }

  get offset(): number {
    return this.#ingest.offset;
  }

  digest(): Digest {
    return this.#digester.digest();
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.#serial(async () => {
      this.#check("write to");
      const copy = Buffer.from(chunk);
      this.#ingest.chunks.push(copy);
      this.#ingest.offset += copy.length;
      this.#ingest.updatedAt = this.#host.now();
      this.#digester.update(copy);
    });
  }

  commit(expected: CommitOptions): Promise<void> {
    return this.#serial(async () => {
      this.#check("commit");
      this.#close();
      const want = checkCommitOptions(this.ref, expected);
      const size = this.#ingest.offset;
      const wantSize = expected.size ?? this.#ingest.total;
      if (wantSize !== undefined && size !== wantSize) {
        throw new FailedPreconditionError(`unexpected commit size ${size}, expected ${wantSize}`);
      }
      const alg = digestAlgorithm(want.digest);
      const got = alg === this.#digester.algorithm ? this.#digester.digest() : digesterOf(this.#ingest.chunks, alg).digest();
      this.#host.dropIngest(this.#ingest);
      this.#ingestGone = true;
      if (got !== want.digest) throw new FailedPreconditionError(`unexpected commit digest ${got}, expected ${want.digest}`);
      this.#host.placeBlob(got, Buffer.concat(this.#ingest.chunks, size), want.labels);
    });
  }

  close(): Promise<void> {
    return this.#serial(async () => {
      if (!this.#open) return;
      this.#ingest.updatedAt = this.#host.now();
      this.#close();
    });
  }

  abort(): Promise<void> {
    return this.#serial(async () => {
      if (this.#open) {
        this.#close();
        this.#host.dropIngest(this.#ingest);
        return;
      }
      if (this.#ingestGone) return;
      // Closed, or a commit failed and kept the ingest: remove it as the store would,
      // unless another writer holds the ref now.
      await this.#host.abort(this.ref).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    });
  }

  #check(action: string): void {
    if (!this.#open) throw new FailedPreconditionError(`cannot ${action} writer of ref ${this.ref}: it is closed`);
  }

  #close(): void {
    this.#open = false;
    this.#host.release(this.ref);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
