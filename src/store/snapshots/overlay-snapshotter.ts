/**
 * The overlayfs snapshotter (containerd's `plugins/snapshots/overlay`). Each snapshot is a
 * directory `<root>/snapshots/<id>/` holding `fs/` (its own tree: the upper directory while it
 * is active, a lower directory once committed), `work/` (overlayfs' work directory, active
 * snapshots only) and `snapshot.json`, its metadata, written atomically (temporary file and
 * rename; with `syncOnCommit`, fsynced too). A snapshot exists exactly when its `snapshot.json`
 * does: a directory without one is what a crash left behind, invisible, and `cleanup()`
 * removes it (the first use of an instance runs it too). Ids are small numbers so that long lowerdir lists fit overlayfs' one-page
 * option limit.
 *
 * One OverlaySnapshotter owns its root: two instances (or processes) on the same root are
 * not supported.
 */
import { execFile } from "node:child_process";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { lstat, mkdir, readFile, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { Clock } from "../../clock/index.js";
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, errnoCode } from "../../errdefs/index.js";
import { noSpaceError, syncDir } from "../../fsutil/index.js";
import type { Mount, SnapshotInfo, SnapshotKind, SnapshotOptions, SnapshotUsage, Snapshotter } from "./snapshotter.js";

const META = "snapshot.json";
const META_TMP = "snapshot.json.tmp";

export interface OverlaySnapshotterOptions {
  clock: Clock;
  /**
   * Flush the filesystem (syncfs) before a commit is recorded, and fsync the metadata of
   * every change, so snapshots survive a power cut whole (default false, as containerd's
   * overlayfs snapshotter and podman: a killed process loses nothing either way, the page
   * cache outlives it, and metadata is replaced by rename, atomically).
   */
  syncOnCommit?: boolean;
}

interface SnapshotRecord {
  id: string;
  info: SnapshotInfo;
}

interface StoredSnapshot {
  version: 1;
  name: string;
  parent?: string;
  kind: SnapshotKind;
  createdAt: number;
  labels: Record<string, string>;
}

function isStoredSnapshot(v: unknown): v is StoredSnapshot {
  if (typeof v !== "object" || v === null) return false;
  const s = v as Record<string, unknown>;
  return s.version === 1 && typeof s.name === "string" && s.name !== ""
    && (s.parent === undefined || typeof s.parent === "string")
    && (s.kind === "active" || s.kind === "view" || s.kind === "committed")
    && typeof s.createdAt === "number"
    && typeof s.labels === "object" && s.labels !== null
    && Object.values(s.labels).every((l) => typeof l === "string");
}

function copyInfo(info: SnapshotInfo): SnapshotInfo {
  const out: SnapshotInfo = { name: info.name, kind: info.kind, createdAt: info.createdAt, labels: { ...info.labels } };
  if (info.parent !== undefined) out.parent = info.parent;
  return out;
}

function checkKey(what: string, key: string): void {
  if (typeof key !== "string" || key === "" || key.includes("\0")) {
    throw new InvalidArgumentError(`invalid snapshot ${what} ${JSON.stringify(key)}: must be a non-empty string without NUL`);
  }
}


/** Flushes the filesystem holding `path` (syncfs through coreutils' `sync -f`). */
function syncFilesystem(path: string): Promise<void> {
  return new Promise((resolveSync, reject) => {
    execFile("sync", ["-f", path], (err) => (err ? reject(err) : resolveSync()));
  });
}

export class OverlaySnapshotter implements Snapshotter {
  readonly root: string;
  readonly #clock: Clock;
  readonly #syncOnCommit: boolean;
  readonly #dir: string;
  readonly #byName = new Map<string, SnapshotRecord>();
  #loaded: Promise<void> | undefined;
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(root: string, opts: OverlaySnapshotterOptions) {
    this.root = resolve(root);
    if (/[:,]/.test(this.root)) {
      throw new InvalidArgumentError(`snapshotter root ${JSON.stringify(this.root)}: overlayfs options cannot carry paths with ":" or ","`);
    }
    this.#clock = opts.clock;
    this.#syncOnCommit = opts.syncOnCommit === true;
    this.#dir = join(this.root, "snapshots");
  }

  async stat(key: string): Promise<SnapshotInfo> {
    await this.#load();
    return copyInfo(this.#get(key).info);
  }

  prepare(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#create("active", key, parent, opts);
  }

  view(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#create("view", key, parent, opts);
  }

  commit(name: string, key: string, opts: SnapshotOptions = {}): Promise<void> {
    checkKey("name", name);
    return this.#exclusive(async () => {
      const rec = this.#get(key);
      if (rec.info.kind !== "active") {
        throw new FailedPreconditionError(`cannot commit snapshot "${key}": it is ${rec.info.kind === "view" ? "a view" : "already committed"}; only active snapshots can be committed`);
      }
      if (this.#byName.has(name)) throw new AlreadyExistsError(`cannot commit snapshot "${key}" as "${name}": snapshot "${name}" already exists`);
      if (opts.parent !== undefined) this.#checkRebase(rec, name, opts.parent);
      const dir = this.#snapshotDir(rec.id);
      if (this.#syncOnCommit) await syncFilesystem(join(dir, "fs"));
      const info: SnapshotInfo = { ...copyInfo(rec.info), name, kind: "committed", createdAt: this.#clock.now(), labels: { ...rec.info.labels, ...opts.labels } };
      if (opts.parent !== undefined) info.parent = opts.parent;
      await this.#writeMeta(rec.id, info);
      this.#byName.delete(key);
      this.#byName.set(name, { id: rec.id, info });
      rmSync(join(dir, "work"), { recursive: true, force: true });
    });
  }

  /** A rebase at commit: `key` was prepared on no parent, and `parent` is committed. */
  #checkRebase(rec: SnapshotRecord, name: string, parent: string): void {
    checkKey("parent", parent);
    const what = `cannot commit snapshot "${rec.info.name}" as "${name}" on parent "${parent}"`;
    if (rec.info.parent !== undefined) throw new FailedPreconditionError(`${what}: it was prepared on "${rec.info.parent}"; only a snapshot prepared without a parent can be rebased`);
    const p = this.#byName.get(parent);
    if (p === undefined) throw new NotFoundError(`${what}: parent not found`);
    if (p.info.kind !== "committed") throw new FailedPreconditionError(`${what}: the parent is ${p.info.kind}; only committed snapshots can be parents`);
  }

  async mounts(key: string): Promise<Mount[]> {
    await this.#load();
    const rec = this.#get(key);
    if (rec.info.kind === "committed") {
      throw new FailedPreconditionError(`snapshot "${key}" is committed: only active snapshots and views have mounts; make a view of it`);
    }
    return this.#mountsOf(rec);
  }

  remove(key: string): Promise<void> {
    return this.#exclusive(async () => {
      const rec = this.#get(key);
      const children = [...this.#byName.values()].filter((r) => r.info.parent === rec.info.name).map((r) => r.info.name);
      if (children.length > 0) {
        throw new FailedPreconditionError(`cannot remove snapshot "${key}": it is the parent of ${children.map((c) => `"${c}"`).join(", ")}; remove those first`);
      }
      const dir = this.#snapshotDir(rec.id);
      // Dropping the metadata is the commit point; the tree left behind is garbage for cleanup().
      await unlink(join(dir, META));
      if (this.#syncOnCommit) await syncDir(dir);
      this.#byName.delete(key);
      await rm(dir, { recursive: true, force: true });
    });
  }

  async walk(): Promise<SnapshotInfo[]> {
    await this.#load();
    return [...this.#byName.values()]
      .sort((a, b) => a.info.createdAt - b.info.createdAt || Number(a.id) - Number(b.id))
      .map((r) => copyInfo(r.info));
  }

  async usage(key: string): Promise<SnapshotUsage> {
    await this.#load();
    const rec = this.#get(key);
    const seen = new Set<string>();
    let size = 0;
    const visit = async (path: string): Promise<void> => {
      const st = await lstat(path, { bigint: true });
      const id = `${st.dev}:${st.ino}`;
      if (!seen.has(id)) {
        seen.add(id);
        size += Number(st.blocks) * 512;
      }
      if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
    };
    await visit(join(this.#snapshotDir(rec.id), "fs"));
    return { size, inodes: seen.size };
  }

  /**
   * Removes what crashes left behind: snapshot directories without metadata (a prepare or a
   * remove cut short), half-written metadata files, and work directories of committed
   * snapshots. Returns the paths removed. The first use of an instance does this too.
   */
  cleanup(): Promise<string[]> {
    return this.#exclusive(() => this.#collectGarbage());
  }

  async #collectGarbage(): Promise<string[]> {
    const known = new Map([...this.#byName.values()].map((r) => [r.id, r]));
    const removed: string[] = [];
    for (const entry of await readdir(this.#dir)) {
      const path = join(this.#dir, entry);
      const rec = known.get(entry);
      if (rec === undefined) {
        await rm(path, { recursive: true, force: true });
        removed.push(path);
        continue;
      }
      const leftovers = [join(path, META_TMP)];
      if (rec.info.kind === "committed") leftovers.push(join(path, "work"));
      for (const p of leftovers) {
        if (await exists(p)) {
          await rm(p, { recursive: true, force: true });
          removed.push(p);
        }
      }
    }
    return removed;
  }

  #create(kind: "active" | "view", key: string, parent: string | undefined, opts: SnapshotOptions): Promise<Mount[]> {
    checkKey("key", key);
    if (parent !== undefined) checkKey("parent", parent);
    return this.#exclusive(async () => {
      if (this.#byName.has(key)) throw new AlreadyExistsError(`snapshot "${key}" already exists`);
      if (parent !== undefined) {
        const p = this.#byName.get(parent);
        if (p === undefined) throw new NotFoundError(`parent snapshot "${parent}" of "${key}" not found`);
        if (p.info.kind !== "committed") throw new FailedPreconditionError(`parent snapshot "${parent}" of "${key}" is ${p.info.kind}: only committed snapshots can be parents`);
      }
      const id = String(this.#nextId++);
      const dir = this.#snapshotDir(id);
      // metadata calls are made synchronously, fsyncs (syncOnCommit) through the thread pool:
      // a pull keeps the pool busy inflating layers, and queueing there cost more than the calls
      mkdirSync(dir, { mode: 0o700 });
      mkdirSync(join(dir, "fs"), { mode: 0o755 });
      if (kind === "active") mkdirSync(join(dir, "work"), { mode: 0o700 });
      const info: SnapshotInfo = { name: key, kind, createdAt: this.#clock.now(), labels: { ...opts.labels } };
      if (parent !== undefined) info.parent = parent;
      await this.#writeMeta(id, info);
      if (this.#syncOnCommit) await syncDir(this.#dir);
      const rec = { id, info };
      this.#byName.set(key, rec);
      return this.#mountsOf(rec);
    });
  }

  #mountsOf(rec: SnapshotRecord): Mount[] {
    const own = join(this.#snapshotDir(rec.id), "fs");
    const lowers: string[] = [];
    for (let p = rec.info.parent; p !== undefined;) {
      const parent = this.#byName.get(p);
      if (parent === undefined) throw new NotFoundError(`snapshot "${rec.info.name}": parent "${p}" not found`);
      lowers.push(join(this.#snapshotDir(parent.id), "fs"));
      p = parent.info.parent;
    }
    const rw = rec.info.kind === "active";
    if (lowers.length === 0) return [{ type: "bind", source: own, options: [rw ? "rw" : "ro", "rbind"] }];
    if (rw) {
      const work = join(this.#snapshotDir(rec.id), "work");
      return [{ type: "overlay", source: "overlay", options: [`workdir=${work}`, `upperdir=${own}`, `lowerdir=${lowers.join(":")}`] }];
    }
    const [only] = lowers;
    if (lowers.length === 1 && only !== undefined) return [{ type: "bind", source: only, options: ["ro", "rbind"] }];
    return [{ type: "overlay", source: "overlay", options: [`lowerdir=${lowers.join(":")}`] }];
  }

  #get(key: string): SnapshotRecord {
    const rec = this.#byName.get(key);
    if (rec === undefined) throw new NotFoundError(`snapshot "${key}" not found`);
    return rec;
  }

  #snapshotDir(id: string): string {
    return join(this.#dir, id);
  }

  async #writeMeta(id: string, info: SnapshotInfo): Promise<void> {
    const dir = this.#snapshotDir(id);
    const stored: StoredSnapshot = { version: 1, ...copyInfo(info) };
    const tmp = join(dir, META_TMP);
    try {
      if (this.#syncOnCommit) await writeFile(tmp, `${JSON.stringify(stored)}\n`, { mode: 0o600, flush: true });
      else writeFileSync(tmp, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
    } catch (err) {
      throw noSpaceError(err, tmp);
    }
    renameSync(tmp, join(dir, META));
    if (this.#syncOnCommit) await syncDir(dir);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => this.#load()).then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #load(): Promise<void> {
    this.#loaded ??= this.#scan().catch((err: unknown) => {
      this.#loaded = undefined;
      throw err;
    });
    return this.#loaded;
  }

  async #scan(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    let maxId = 0;
    for (const entry of await readdir(this.#dir)) {
      if (!/^[1-9][0-9]*$/.test(entry)) continue;
      maxId = Math.max(maxId, Number(entry));
      let stored: unknown;
      try {
        stored = JSON.parse(await readFile(join(this.#dir, entry, META), "utf8"));
      } catch (err) {
        if (errnoCode(err) === "ENOENT" || err instanceof SyntaxError) continue; // garbage: cleanup() removes it
        throw err;
      }
      if (!isStoredSnapshot(stored) || this.#byName.has(stored.name)) continue;
      const info: SnapshotInfo = { name: stored.name, kind: stored.kind, createdAt: stored.createdAt, labels: { ...stored.labels } };
      if (stored.parent !== undefined) info.parent = stored.parent;
      this.#byName.set(stored.name, { id: entry, info });
    }
    this.#nextId = maxId + 1;
    await this.#collectGarbage();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
}
