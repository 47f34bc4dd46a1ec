/**
 * Storage on one SQLite file, laid out as k3s's kine lays etcd onto SQL: every write appends a
 * row (its id is the revision), a key's value is its newest row, a deletion is a tombstone row,
 * and each row carries the value it replaced, so watches replay history with prevKv.
 * WAL with synchronous=FULL: a write is acknowledged only once it is on disk.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { FailedPreconditionError } from "../../errdefs/index.js";
import {
  CompactedError, KeyExistsError, KeyNotFoundError, RevisionConflictError, WatchOverflowError,
  type KV, type RangeOptions, type RangeResult, type Storage, type StorageEvent,
} from "./types.js";

interface Row {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: Buffer | null;
  old_value: Buffer | null;
}

interface Subscriber {
  prefix: string;
  queue: StorageEvent[];
  overflow: boolean;
  wake: (() => void) | undefined;
}

export interface SqliteStorageOptions {
  /** Events a watcher may have waiting before it is dropped (WatchOverflowError); 10000 by default. */
  maxWatchBacklog?: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value BLOB,
  old_value BLOB
);
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE TABLE IF NOT EXISTS kv_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** The first key after every key that starts with `prefix`. */
function prefixEnd(prefix: string): string {
  if (prefix === "") return "\u{10FFFF}";
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function toBuffer(value: Buffer | string): Buffer {
  return typeof value === "string" ? Buffer.from(value) : value;
}

function rowKv(r: Row): KV {
  return { key: r.name, value: r.value ?? Buffer.alloc(0), createRevision: r.create_revision, modRevision: r.id };
}

function rowEvent(r: Row): StorageEvent {
  const prevKv: KV | undefined = r.prev_revision > 0 && r.old_value
    ? { key: r.name, value: r.old_value, createRevision: r.create_revision, modRevision: r.prev_revision }
    : undefined;
  if (r.deleted) return { type: "DELETE", kv: { key: r.name, value: Buffer.alloc(0), createRevision: r.create_revision, modRevision: r.id }, ...(prevKv ? { prevKv } : {}) };
  return { type: "PUT", kv: rowKv(r), ...(prevKv ? { prevKv } : {}) };
}

export class SqliteStorage implements Storage {
  readonly #db: BetterSqlite3.Database;
  readonly #subs = new Set<Subscriber>();
  readonly #maxBacklog: number;
  #rev: number;
  #compacted: number;
  #closed = false;
  readonly #latest: BetterSqlite3.Statement<[string]>;
  readonly #insert: BetterSqlite3.Statement<[string, number, number, number, number, Buffer | null, Buffer | null]>;
  // Prepared once: each prepare compiles the SQL again and holds native memory until the
  // statement object is collected, which a burst of writes and lists would pile up.
  readonly #setCreateRevision: BetterSqlite3.Statement<[number, number]>;
  readonly #rangeRows: BetterSqlite3.Statement<[string, string, number, number]>;
  readonly #historyRows: BetterSqlite3.Statement<[string, string, number]>;
  readonly #compactRows: BetterSqlite3.Statement<[number, number]>;
  readonly #setCompacted: BetterSqlite3.Statement<[number]>;

  /** Opens (creating it and its directory if needed) the store at `path`, or ":memory:". */
  constructor(path: string, opts: SqliteStorageOptions = {}) {
    this.#maxBacklog = opts.maxWatchBacklog ?? 10_000;
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      this.#db = new BetterSqlite3(path);
      this.#db.pragma("journal_mode = WAL");
      this.#db.pragma("synchronous = FULL");
      this.#db.pragma("busy_timeout = 5000");
      this.#db.exec(SCHEMA);
    } catch (err) {
      throw new FailedPreconditionError(`open API storage ${path}: ${(err as Error).message}`, { cause: err });
    }
    const seq = this.#db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'kv'").get() as { seq: number } | undefined;
    this.#rev = seq?.seq ?? 0;
    const c = this.#db.prepare("SELECT value FROM kv_meta WHERE key = 'compact_rev'").get() as { value: number } | undefined;
    this.#compacted = c?.value ?? 0;
    this.#latest = this.#db.prepare("SELECT * FROM kv WHERE name = ? ORDER BY id DESC LIMIT 1");
    this.#insert = this.#db.prepare(
      "INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value, old_value) VALUES (?, ?, ?, ?, ?, ?, ?)");
    this.#setCreateRevision = this.#db.prepare("UPDATE kv SET create_revision = ? WHERE id = ?");
    this.#rangeRows = this.#db.prepare(
      `SELECT kv.* FROM kv JOIN (SELECT MAX(id) AS mid FROM kv WHERE name >= ? AND name < ? AND id <= ? GROUP BY name) m
       ON kv.id = m.mid WHERE kv.deleted = 0 ORDER BY kv.name LIMIT ?`);
    this.#historyRows = this.#db.prepare("SELECT * FROM kv WHERE name >= ? AND name < ? AND id >= ? ORDER BY id");
    // Keep, per key, the newest row at or below the target unless it is a tombstone.
    this.#compactRows = this.#db.prepare(
      "DELETE FROM kv WHERE id <= ? AND (deleted = 1 OR id NOT IN (SELECT MAX(id) FROM kv WHERE id <= ? GROUP BY name))");
    this.#setCompacted = this.#db.prepare(
      "INSERT INTO kv_meta (key, value) VALUES ('compact_rev', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  }

  #check(): void {
    if (this.#closed) throw new FailedPreconditionError("API storage is closed");
  }

  #live(key: string): Row | undefined {
    const r = this.#latest.get(key) as Row | undefined;
    return r && !r.deleted ? r : undefined;
  }

  /** Appends one row and tells the watchers; returns the row's revision. */
  #append(name: string, created: boolean, deleted: boolean, createRevision: number, prev: Row | undefined, value: Buffer | null): number {
    const info = this.#insert.run(name, created ? 1 : 0, deleted ? 1 : 0, createRevision, prev?.id ?? 0, value, prev?.value ?? null);
    const id = Number(info.lastInsertRowid);
    // A create's own create_revision is its id, known only after the insert.
    if (created) this.#setCreateRevision.run(id, id);
    this.#rev = id;
    const row: Row = {
      id, name, created: created ? 1 : 0, deleted: deleted ? 1 : 0, create_revision: created ? id : createRevision,
      prev_revision: prev?.id ?? 0, value, old_value: prev?.value ?? null,
    };
    this.#notify(rowEvent(row));
    return id;
  }

  #notify(ev: StorageEvent): void {
    for (const s of this.#subs) {
      if (!ev.kv.key.startsWith(s.prefix) || s.overflow) continue;
      if (s.queue.length >= this.#maxBacklog) {
        s.overflow = true;
        s.queue.length = 0;
      } else {
        s.queue.push(ev);
      }
      s.wake?.();
    }
  }

  async get(key: string): Promise<KV | undefined> {
    this.#check();
    const r = this.#live(key);
    return r ? rowKv(r) : undefined;
  }

  async range(prefix: string, opts: RangeOptions = {}): Promise<RangeResult> {
    this.#check();
    const revision = opts.revision && opts.revision > 0 ? opts.revision : this.#rev;
    if (opts.revision && opts.revision > 0 && opts.revision < this.#compacted) throw new CompactedError(opts.revision, this.#compacted);
    if (revision > this.#rev) throw new CompactedError(revision, this.#compacted);
    const start = opts.startKey !== undefined && opts.startKey > prefix ? opts.startKey : prefix;
    const limit = opts.limit && opts.limit > 0 ? opts.limit : -1;
    const rows = this.#rangeRows.all(start, prefixEnd(prefix), revision, limit < 0 ? -1 : limit + 1) as Row[];
    const more = limit >= 0 && rows.length > limit;
    return { kvs: (more ? rows.slice(0, limit) : rows).map(rowKv), revision, more };
  }

  async create(key: string, value: Buffer | string): Promise<number> {
    this.#check();
    const buf = toBuffer(value);
    return this.#db.transaction(() => {
      if (this.#live(key)) throw new KeyExistsError(key);
      return this.#append(key, true, false, 0, undefined, buf);
    }).immediate();
  }

  async update(key: string, value: Buffer | string, expectedModRevision: number): Promise<number> {
    this.#check();
    const buf = toBuffer(value);
    return this.#db.transaction(() => {
      const cur = this.#live(key);
      if (!cur) throw new KeyNotFoundError(key);
      if (cur.id !== expectedModRevision) throw new RevisionConflictError(key, expectedModRevision, cur.id);
      return this.#append(key, false, false, cur.create_revision, cur, buf);
    }).immediate();
  }

  async delete(key: string, expectedModRevision?: number): Promise<number> {
    this.#check();
    return this.#db.transaction(() => {
      const cur = this.#live(key);
      if (!cur) throw new KeyNotFoundError(key);
      if (expectedModRevision !== undefined && cur.id !== expectedModRevision) throw new RevisionConflictError(key, expectedModRevision, cur.id);
      return this.#append(key, false, true, cur.create_revision, cur, null);
    }).immediate();
  }

  watch(prefix: string, fromRevision: number, signal: AbortSignal): AsyncIterable<StorageEvent> {
    this.#check();
    if (fromRevision > 0 && fromRevision <= this.#compacted) throw new CompactedError(fromRevision, this.#compacted);
    const sub: Subscriber = { prefix, queue: [], overflow: false, wake: undefined };
    // Subscribe before reading history, so no write falls between the two.
    this.#subs.add(sub);
    const history = fromRevision > 0 && fromRevision <= this.#rev
      ? (this.#historyRows.all(prefix, prefixEnd(prefix), fromRevision) as Row[])
      : [];
    // Live events at or below this were replayed already (or come before fromRevision).
    const replayedTo = Math.max(history.length > 0 ? (history[history.length - 1]?.id ?? 0) : 0, fromRevision - 1);
    const subs = this.#subs;
    const closed = (): boolean => this.#closed;
    const maxBacklog = this.#maxBacklog;
    const onAbort = (): void => sub.wake?.();
    signal.addEventListener("abort", onAbort, { once: true });
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (const r of history) {
            if (signal.aborted) return;
            yield rowEvent(r);
          }
          for (;;) {
            if (signal.aborted || closed()) return;
            if (sub.overflow) throw new WatchOverflowError(prefix, maxBacklog);
            const ev = sub.queue.shift();
            if (ev) {
              if (ev.kv.modRevision > replayedTo) yield ev;
              continue;
            }
            await new Promise<void>((resolve) => { sub.wake = resolve; });
            sub.wake = undefined;
          }
        } finally {
          subs.delete(sub);
          signal.removeEventListener("abort", onAbort);
        }
      },
    };
  }

  async compact(revision: number): Promise<void> {
    this.#check();
    const target = Math.min(revision, this.#rev);
    if (target <= this.#compacted) return;
    this.#db.transaction(() => {
      this.#compactRows.run(target, target);
      this.#setCompacted.run(target);
    })();
    this.#compacted = target;
  }

  currentRevision(): number {
    return this.#rev;
  }

  compactedRevision(): number {
    return this.#compacted;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subs) s.wake?.();
    this.#db.close();
  }
}
