/**
 * The rules every snapshotter enforces on its table of snapshots, with the errors the
 * interface promises (snapshotter.ts): keys are unique, parents are committed, only an
 * active snapshot can be committed, a parent cannot be removed. Implementations keep their
 * records in a map by key or name and call these before they change anything.
 */
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../errdefs/index.js";
import type { SnapshotInfo, SnapshotOptions } from "./snapshotter.js";

/** What the rules need of a snapshot record. */
export interface SnapshotEntry {
  info: SnapshotInfo;
}

export type SnapshotTable<R extends SnapshotEntry> = ReadonlyMap<string, R>;

export function copyInfo(info: SnapshotInfo): SnapshotInfo {
  const out: SnapshotInfo = { name: info.name, kind: info.kind, createdAt: info.createdAt, labels: { ...info.labels } };
  if (info.parent !== undefined) out.parent = info.parent;
  return out;
}

export function checkKey(what: string, key: string): void {
  if (typeof key !== "string" || key === "" || key.includes("\0")) {
    throw new InvalidArgumentError(`invalid snapshot ${what} ${JSON.stringify(key)}: must be a non-empty string without NUL`);
  }
}

/** The snapshot `key`; NotFoundError when there is none. */
export function getSnapshot<R extends SnapshotEntry>(table: SnapshotTable<R>, key: string): R {
  const rec = table.get(key);
  if (rec === undefined) throw new NotFoundError(`snapshot "${key}" not found`);
  return rec;
}

/** Checks that `key` may be created on `parent`; returns the parent's record, if any. */
export function checkCreate<R extends SnapshotEntry>(table: SnapshotTable<R>, key: string, parent: string | undefined): R | undefined {
  checkKey("key", key);
  if (parent !== undefined) checkKey("parent", parent);
  if (table.has(key)) throw new AlreadyExistsError(`snapshot "${key}" already exists`);
  if (parent === undefined) return undefined;
  const p = table.get(parent);
  if (p === undefined) throw new NotFoundError(`parent snapshot "${parent}" of "${key}" not found`);
  if (p.info.kind !== "committed") throw new FailedPreconditionError(`parent snapshot "${parent}" of "${key}" is ${p.info.kind}: only committed snapshots can be parents`);
  return p;
}

/**
 * Checks that the active snapshot `key` may be committed as `name` (on `opts.parent`, a rebase);
 * returns its record and the committed snapshot's info, for the caller to record.
 */
export function checkCommit<R extends SnapshotEntry>(
  table: SnapshotTable<R>,
  name: string,
  key: string,
  opts: SnapshotOptions & { now: number },
): { rec: R; info: SnapshotInfo } {
  checkKey("name", name);
  const rec = getSnapshot(table, key);
  if (rec.info.kind !== "active") {
    throw new FailedPreconditionError(`cannot commit snapshot "${key}": it is ${rec.info.kind === "view" ? "a view" : "already committed"}; only active snapshots can be committed`);
  }
  if (table.has(name)) throw new AlreadyExistsError(`cannot commit snapshot "${key}" as "${name}": snapshot "${name}" already exists`);
  if (opts.parent !== undefined) checkRebase(table, rec, name, opts.parent);
  const info: SnapshotInfo = { ...copyInfo(rec.info), name, kind: "committed", createdAt: opts.now, labels: { ...rec.info.labels, ...opts.labels } };
  if (opts.parent !== undefined) info.parent = opts.parent;
  return { rec, info };
}

/** A rebase at commit: `rec` was prepared on no parent, and `parent` is committed. */
function checkRebase<R extends SnapshotEntry>(table: SnapshotTable<R>, rec: R, name: string, parent: string): void {
  checkKey("parent", parent);
  const what = `cannot commit snapshot "${rec.info.name}" as "${name}" on parent "${parent}"`;
  if (rec.info.parent !== undefined) throw new FailedPreconditionError(`${what}: it was prepared on "${rec.info.parent}"; only a snapshot prepared without a parent can be rebased`);
  const p = table.get(parent);
  if (p === undefined) throw new NotFoundError(`${what}: parent not found`);
  if (p.info.kind !== "committed") throw new FailedPreconditionError(`${what}: the parent is ${p.info.kind}; only committed snapshots can be parents`);
}

/** Checks that `key` may be removed (it is no snapshot's parent); returns its record. */
export function checkRemove<R extends SnapshotEntry>(table: SnapshotTable<R>, key: string): R {
  const rec = getSnapshot(table, key);
  const children = [...table.values()].filter((r) => r.info.parent === rec.info.name).map((r) => r.info.name);
  if (children.length > 0) {
    throw new FailedPreconditionError(`cannot remove snapshot "${key}": it is the parent of ${children.map((c) => `"${c}"`).join(", ")}; remove those first`);
  }
  return rec;
}

/** The record of `key` for `mounts`: an active snapshot or a view (FailedPreconditionError for a committed one). */
export function checkMounts<R extends SnapshotEntry>(table: SnapshotTable<R>, key: string): R {
  const rec = getSnapshot(table, key);
  if (rec.info.kind === "committed") {
    throw new FailedPreconditionError(`snapshot "${key}" is committed: only active snapshots and views have mounts; make a view of it`);
  }
  return rec;
}

/** Every snapshot in `table`, oldest first (ties in the order their ids were given), as copies. */
export function walkTable<R extends SnapshotEntry & { id: string }>(table: SnapshotTable<R>): SnapshotInfo[] {
  return [...table.values()]
    .sort((a, b) => a.info.createdAt - b.info.createdAt || Number(a.id) - Number(b.id))
    .map((r) => copyInfo(r.info));
}
