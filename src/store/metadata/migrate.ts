/**
 * Schema migrations, applied in order, each in its own IMMEDIATE transaction together
 * with its row in `schema_version`. Every part that keeps tables in the node database
 * (the store now, the kubelet later) owns a `component` and its own list, so lists grow
 * independently: `migrate(db, { component: "kubelet", migrations: [...] })`.
 */
import { realClock, type Clock } from "../../clock/index.js";
import { FailedPreconditionError, InvalidArgumentError } from "../../errdefs/index.js";
import type { Database } from "./database.js";

/** One schema step. `version`s of a component run 1, 2, 3, … with no gaps; `up` must not change pragmas that cannot change inside a transaction. */
export interface Migration {
  version: number;
  name: string;
  up(db: Database): void;
}

/** One component's migrations, in order. */
export interface MigrationSet {
  component: string;
  migrations: readonly Migration[];
}

export interface MigrateOptions {
  /** The source of `schema_version.applied_at`; the real clock by default. */
  clock?: Clock;
}

const CREATE_SCHEMA_VERSION = `CREATE TABLE IF NOT EXISTS schema_version (
  component  TEXT    NOT NULL,
  version    INTEGER NOT NULL,
  name       TEXT    NOT NULL,
  applied_at INTEGER NOT NULL,
  PRIMARY KEY (component, version)
) STRICT`;

/** The version of `component`'s schema in `db`; 0 when none of its migrations ran. */
export function schemaVersion(db: Database, component: string): number {
  db.exec(CREATE_SCHEMA_VERSION);
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_version WHERE component = ?").get(component) as { v: number | null };
  return row.v ?? 0;
}

/**
 * Brings the schema of `set.component` up to the last of `set.migrations` and returns
 * that version. A database newer than the list is refused (FailedPreconditionError); a
 * migration that fails is rolled back whole and reported with its version and name.
 */
export function migrate(db: Database, set: MigrationSet, opts: MigrateOptions = {}): number {
  const { component, migrations } = set;
  if (component === "") throw new InvalidArgumentError("migrate: component must not be empty");
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new InvalidArgumentError(`migrate ${component}: migration #${i} (${m.name}) has version ${m.version}, expected ${i + 1}`);
    }
  });
  const clock = opts.clock ?? realClock;
  const have = schemaVersion(db, component);
  if (have > migrations.length) {
    throw new FailedPreconditionError(
      `database ${db.name}: schema of ${component} is at version ${have}, newer than the ${migrations.length} this podyard knows; upgrade podyard`,
    );
  }
  const insert = db.prepare("INSERT INTO schema_version (component, version, name, applied_at) VALUES (?, ?, ?, ?)");
  for (const m of migrations.slice(have)) {
    const step = db.transaction(() => {
      if (schemaVersion(db, component) >= m.version) return; // another connection got there first
      m.up(db);
      insert.run(component, m.version, m.name, clock.now());
    });
    try {
      step.immediate();
    } catch (err) {
      throw new FailedPreconditionError(
        `database ${db.name}: migration ${component} ${m.version} (${m.name}) failed: ${(err as Error).message}`, { cause: err },
      );
    }
  }
  return schemaVersion(db, component);
}
