/**
 * The node database: one SQLite file (better-sqlite3) in WAL mode, shared by the
 * parts that keep records (images now; pods, events and pull records later).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import type { Clock } from "../../clock/index.js";
import { FailedPreconditionError } from "../../errdefs/index.js";
import { migrate } from "./migrate.js";
import { STORE_MIGRATIONS } from "./store-migrations.js";

export type Database = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /** How long a statement waits for another connection's lock before SQLITE_BUSY; 5000 ms by default. */
  busyTimeoutMs?: number;
  /** The source of `schema_version.applied_at`; the real clock by default. */
  clock?: Clock;
}

/**
 * Opens (creating it and its directory if needed) the database at `path` (or
 * ":memory:"): WAL journal, `synchronous=FULL` (a commit survives a power cut),
 * foreign keys on, a busy timeout, and the store's migrations applied.
 */
export function openDatabase(path: string, opts: OpenDatabaseOptions = {}): Database {
  let db: Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new BetterSqlite3(path);
  } catch (err) {
    throw new FailedPreconditionError(`open database ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(opts.busyTimeoutMs ?? 5_000))}`);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    migrate(db, STORE_MIGRATIONS, opts.clock === undefined ? {} : { clock: opts.clock });
    return db;
  } catch (err) {
    db.close();
    if (err instanceof FailedPreconditionError) throw err;
    throw new FailedPreconditionError(`open database ${path}: ${(err as Error).message}`, { cause: err });
  }
}
