/**
 * The API server's storage, shaped like etcd's KV + Watch API (as k3s's kine maps it onto SQL):
 * keys, a single rising revision, compare-and-swap writes, watch from a revision, compaction.
 * A distributed store can replace the SQLite one behind this interface.
 */
import { AbortedError, AlreadyExistsError, NotFoundError, OutOfRangeError } from "../../errdefs/index.js";

export interface KV {
  key: string;
  value: Buffer;
  /** The revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** The revision of the write that produced this value. */
  modRevision: number;
}

export interface RangeOptions {
  /** At most this many keys (0 or undefined: all). */
  limit?: number;
  /** Start at this key (inclusive) instead of at the prefix. */
  startKey?: string;
  /** Read as of this revision (must not be compacted); the current one by default. */
  revision?: number;
}

export interface RangeResult {
  kvs: KV[];
  /** The revision the range was read at. */
  revision: number;
  /** Whether keys past the limit remain. */
  more: boolean;
}

export interface StorageEvent {
  type: "PUT" | "DELETE";
  /** For DELETE: the key with an empty value and the deletion's revision as modRevision. */
  kv: KV;
  prevKv?: KV;
}

export interface Storage {
  get(key: string): Promise<KV | undefined>;
  range(prefix: string, opts?: RangeOptions): Promise<RangeResult>;
  /** Creates `key`; AlreadyExistsStorageError when it exists. Returns the write's revision. */
  create(key: string, value: Buffer | string): Promise<number>;
  /** Replaces `key` only if its modRevision is `expectedModRevision` (ConflictStorageError otherwise). */
  update(key: string, value: Buffer | string, expectedModRevision: number): Promise<number>;
  /** Deletes `key` (when given, only at `expectedModRevision`). Returns the deletion's revision. */
  delete(key: string, expectedModRevision?: number): Promise<number>;
  /**
   * Events for keys under `prefix` with revision >= `fromRevision`, then live ones, until `signal`
   * aborts. Throws CompactedError when `fromRevision` is at or below the compacted revision, and
   * WatchOverflowError when the consumer falls too far behind.
   */
  watch(prefix: string, fromRevision: number, signal: AbortSignal): AsyncIterable<StorageEvent>;
  /** Drops the history at and below `revision` (current values are kept). */
  compact(revision: number): Promise<void>;
  /** The newest revision (0 for an empty store). */
  currentRevision(): number;
  /** The revision history was compacted to (0 when never). */
  compactedRevision(): number;
  close(): void;
}

export class KeyNotFoundError extends NotFoundError {
  constructor(readonly key: string) { super(`key not found: ${key}`); }
}
export class KeyExistsError extends AlreadyExistsError {
  constructor(readonly key: string) { super(`key exists: ${key}`); }
}
/** A compare-and-swap lost: the key changed (or went) since `expected`. */
export class RevisionConflictError extends AbortedError {
  constructor(readonly key: string, readonly expected: number, readonly actual: number | undefined) {
    super(`compare-and-swap on ${key}: expected modRevision ${expected}, found ${actual ?? "no key"}`);
  }
}
/** The requested revision's history is gone (etcd's ErrCompacted). */
export class CompactedError extends OutOfRangeError {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`required revision ${requested} has been compacted (compacted to ${compacted})`);
  }
}
/** A watcher that did not keep up was dropped, so the server's memory stays bounded. */
export class WatchOverflowError extends AbortedError {
  constructor(prefix: string, limit: number) {
    super(`watch on ${prefix} closed: more than ${limit} events were waiting for the reader`);
  }
}
