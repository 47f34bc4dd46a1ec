/**
 * The content store's role interfaces, in containerd's shape (`core/content/content.go`).
 * Content is addressed by digest and becomes visible to a `BlobProvider` only when a
 * `BlobWriter` commits it against the digest (and size) the caller expects (STYLE.md R2).
 *
 * Terms:
 * - blob: committed, immutable content, named by its digest.
 * - ingest: content being written under a caller-chosen `ref` (e.g. `layer-sha256:…`);
 *   one writer per ref at a time; a closed ingest can be resumed from its `offset`.
 *
 * Consumers take the narrowest interface they need (R1): a puller takes an `Ingester`,
 * an unpacker a `BlobProvider`, garbage collection a `ContentManager`.
 */
import type { Readable } from "node:stream";
import type { Digest } from "../../oci/index.js";

/** A committed blob. Times are milliseconds since the epoch, read from the store's Clock. */
export interface Info {
  digest: Digest;
  size: number;
  /** When the blob was committed. */
  createdAt: number;
  /** When the blob or its labels last changed. */
  updatedAt: number;
  labels: Record<string, string>;
}

/** A byte range of a blob: `length` bytes from `offset` (to the end when `length` is absent). */
export interface ReadRange {
  offset: number;
  length?: number;
}

/**
 * Reads committed blobs (containerd's Provider): readers only, never where the bytes are
 * kept. Ingests in progress are never visible here.
 */
export interface BlobProvider {
  /** The blob's info, or undefined when it is not in the store. */
  info(d: Digest): Promise<Info | undefined>;
  /** A stream of the blob (or of `range` of it); NotFoundError when absent, OutOfRangeError for a bad range. */
  reader(d: Digest, range?: ReadRange): Promise<Readable>;
}

/** What a writer is opened with: its ref and, if known, what the content should turn out to be. */
export interface WriterOptions {
  /** Names the ingest; the same ref resumes the same ingest. */
  ref: string;
  /**
   * When `digest` is given and that blob is already committed, `writer` fails with
   * AlreadyExistsError (callers treat it as success). `size` is recorded as the
   * ingest's `total` and checked at commit when the commit does not name a size.
   */
  expected?: { digest: Digest; size?: number };
}

/** What a commit checks the written bytes against, and the labels the blob gets. */
export interface CommitOptions {
  /** The number of bytes expected; when absent, the writer's `expected.size` (if any) is used. */
  size?: number;
  digest: Digest;
  /** Merged into the blob's labels, also when the blob already existed. */
  labels?: Record<string, string>;
}

/**
 * Writes one ingest. Calls are applied in order; a failed write closes the writer
 * (resume from what reached the disk with a new writer).
 */
export interface BlobWriter {
  readonly ref: string;
  /** Bytes in the ingest so far; when the writer was opened, the bytes a previous writer left (resume). */
  readonly offset: number;
  /**
   * The file the bytes go to, when there is one: a reader can follow the write (see
   * followFile). After a commit that made the blob visible (or found it there), the file
   * that holds the blob.
   */
  readonly path?: string;
  write(chunk: Uint8Array): Promise<void>;
  /** The digest of the bytes written so far. */
  digest(): Digest;
  /**
   * Checks size then digest, and makes the content visible under its digest. Always
   * closes the writer. Errors:
   * - FailedPreconditionError "unexpected commit size N, expected M": the ingest is kept
   *   (it may just be short) and can be resumed or aborted;
   * - FailedPreconditionError "unexpected commit digest X, expected Y": the ingest is
   *   removed, since bytes that hash wrong at their full length never turn right and a
   *   kept ingest would make every retry resume into the same mismatch;
   * - AlreadyExistsError: the blob was already committed; the ingest is removed and the
   *   labels merged, so callers treat it as success.
   */
  commit(expected: CommitOptions): Promise<void>;
  /** Releases the ref and keeps the ingest, so a later writer resumes it. */
  close(): Promise<void>;
  /**
   * Releases the ref and removes the ingest. After `close` or a commit that kept the
   * ingest it still removes it (UnavailableError if another writer holds the ref by
   * then); after a commit that removed the ingest it does nothing.
   */
  abort(): Promise<void>;
}

/** Opens writers. */
export interface Ingester {
  /** UnavailableError "ref X locked" while another writer holds `opts.ref`. */
  writer(opts: WriterOptions): Promise<BlobWriter>;
}

/** An ingest in progress or left behind. Times are milliseconds since the epoch. */
export interface IngestStatus {
  ref: string;
  /** Bytes written so far. */
  offset: number;
  /** The size announced when the ingest was started, if any. */
  total?: number;
  startedAt: number;
  updatedAt: number;
}

/** Inspects and removes ingests. */
export interface IngestManager {
  /** NotFoundError when there is no ingest for `ref`. */
  status(ref: string): Promise<IngestStatus>;
  listStatuses(): Promise<IngestStatus[]>;
  /** Removes the ingest; NotFoundError when absent, UnavailableError while a writer holds it. */
  abort(ref: string): Promise<void>;
  /**
   * Removes ingests not written to for `olderThanMs`, and what interrupted aborts left
   * behind; ingests an open writer holds are kept. Returns the refs removed.
   */
  pruneIngests(olderThanMs: number): Promise<string[]>;
}

/** Lists, labels and deletes committed blobs. */
export interface ContentManager {
  /** NotFoundError when the blob is absent. */
  delete(d: Digest): Promise<void>;
  walk(): AsyncIterable<Info>;
  /** Replaces the blob's labels; NotFoundError when absent. Returns the updated info. */
  setLabels(d: Digest, labels: Record<string, string>): Promise<Info>;
}

export type ContentStore = BlobProvider & Ingester & IngestManager & ContentManager;
