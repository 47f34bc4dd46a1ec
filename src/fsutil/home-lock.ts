/**
 * The lock of a state directory ($PODYARD_HOME/lock): one process at a time changes it,
 * or any number read it at once.
 *
 * The lock is a kernel lock: SQLite's POSIX (fcntl) lock on `<path>.db`, an empty file
 * that stays in place. It belongs to the open descriptor of the process that took it,
 * so the kernel drops it when that process exits or dies, however it ends (an error,
 * SIGINT, SIGKILL): a lock is never stale, and a PID that now names another process
 * means nothing. Taking it writes nothing, so it works on a full disk once `<path>.db`
 * exists. `<path>` itself holds the exclusive holder's PID for people to read; it is
 * written when there is room, removed on release, and never trusted. Waiting callers
 * poll with the injected clock and learn the holder's PID from the kernel.
 */
import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Clock } from "../clock/index.js";
import { FailedPreconditionError } from "../errdefs/index.js";
import { removeOnExit } from "./exit-cleanup.js";
import { lockHolders } from "./lock-holders.js";

export interface LockOptions {
  clock: Clock;
  /**
   * Take the lock shared, for reading: other shared holders may hold it at the same
   * time; an exclusive holder waits for all of them, and they for it. Default false.
   */
  shared?: boolean;
  /** poll period while another process holds the lock (default 100 ms) */
  pollMs?: number;
  /** how long to wait before `onWait` is told (default 0: at the first busy try) */
  noticeAfterMs?: number;
  /** told once when the caller waits, with the holder's PID (undefined when the kernel does not say) */
  onWait?: (pid: number | undefined) => void;
}

/** Frees a lock; synchronous, so it is done before a process that calls it exits. */
export type ReleaseLock = () => void;

interface Held {
  count: number;
  shared: boolean;
  taken: Promise<BetterSqlite3.Database>;
}

/** Locks this process holds, with how many holders inside it share each. */
const held = new Map<string, Held>();

/** For each exclusive lock held, what takes its PID file off the exit-time removals. */
const unregisterPid = new Map<string, () => void>();

/**
 * Takes the lock at `path` (waiting while another process holds it) and returns its
 * release. Within one process the lock is shared: it is freed by the last release. A
 * process holding it shared cannot also take it exclusively.
 */
export async function acquireLock(path: string, opts: LockOptions): Promise<ReleaseLock> {
  const shared = opts.shared === true;
  let entry = held.get(path);
  if (entry && entry.shared && !shared) {
    throw new FailedPreconditionError(`lock ${path}: this process holds it shared and cannot also take it exclusively`);
  }
  if (!entry) {
    entry = { count: 0, shared, taken: takeLock(path, opts) };
    held.set(path, entry);
  }
  entry.count++;
  const mine = entry;
  let db: BetterSqlite3.Database;
  try {
    db = await mine.taken;
  } catch (err) {
    if (--mine.count === 0) held.delete(path);
    throw err;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--mine.count > 0) return;
    held.delete(path);
    // the PID file goes while the lock is still held, so it never names the next holder
    if (!mine.shared) {
      rmSync(path, { force: true });
      unregisterPid.get(path)?.();
      unregisterPid.delete(path);
    }
    db.close();
  };
}

/** Whether `err` is SQLite's "another connection holds a conflicting lock". */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}

/** Tries once: true when the lock is now held by `db`. */
function tryLock(db: BetterSqlite3.Database, shared: boolean): boolean {
  try {
    if (shared) {
      // a read transaction holds SQLite's SHARED lock until it ends
      db.exec("BEGIN DEFERRED");
      db.prepare("SELECT count(*) FROM sqlite_master").get();
    } else {
      // A write transaction on an empty database dirties page 1 in memory; with the
      // journal in memory too, nothing is ever written, so the lock needs no free space.
      // (Setting the mode reads the database, so it is busy while another holds the lock.)
      db.pragma("journal_mode = MEMORY");
      db.exec("BEGIN EXCLUSIVE");
    }
    return true;
  } catch (err) {
    if (db.inTransaction) db.exec("ROLLBACK");
    if (isBusy(err)) return false;
    throw err;
  }
}

async function takeLock(path: string, opts: LockOptions): Promise<BetterSqlite3.Database> {
  const file = `${path}.db`;
  let db: BetterSqlite3.Database;
  try {
    db = new BetterSqlite3(file, { timeout: 0 });
  } catch (err) {
    throw new FailedPreconditionError(`lock ${file}: ${(err as Error).message}`, { cause: err });
  }
  const shared = opts.shared === true;
  const start = opts.clock.now();
  let told = false;
  try {
    while (!tryLock(db, shared)) {
      if (!told && opts.clock.now() - start >= (opts.noticeAfterMs ?? 0)) {
        told = true;
        opts.onWait?.(lockHolders(file)[0]);
      }
      await opts.clock.sleep(opts.pollMs ?? 100);
    }
  } catch (err) {
    db.close();
    throw new FailedPreconditionError(`lock ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!shared) {
    writePid(path);
    unregisterPid.set(path, removeOnExit(path)); // gone even when a signal ends the process
    removeOldLockFiles(path);
  }
  return db;
}

/** Best effort: the PID is for people; on a full disk the file stays empty. */
function writePid(path: string): void {
  try {
    writeFileSync(path, String(process.pid), { mode: 0o644 });
  } catch {
    // nothing relies on it
  }
}

/** `<name>.<pid>.<8 hex>`: the private files earlier podyards made while taking the lock. */
const OLD_LOCK_FILE = /^\.\d+\.[0-9a-f]{8}$/;

/** Removes what earlier podyards' lock files left (empty `lock.<pid>.<hex>` files after ENOSPC). */
function removeOldLockFiles(path: string): void {
  const name = basename(path);
  try {
    for (const e of readdirSync(dirname(path))) {
      if (e.startsWith(name) && OLD_LOCK_FILE.test(e.slice(name.length))) rmSync(join(dirname(path), e), { force: true });
    }
  } catch {
    // a leftover is harmless
  }
}
