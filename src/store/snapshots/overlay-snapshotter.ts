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
import { InvalidArgumentError, NotFoundError, errnoCode } from "../../errdefs/index.js";
import { noSpaceError, syncDir } from "../../fsutil/index.js";
import { checkCommit, checkCreate, checkMounts, checkRemove, copyInfo, getSnapshot, walkTable } from "./snapshot-rules.js";
import type { Mount, SnapshotInfo, SnapshotKind, SnapshotOptions, SnapshotUsage, Snapshotter } from "./snapshotter.js";
import { treeUsage } from "./tree-usage.js";

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
    return copyInfo(getSnapshot(this.#byName, key).info);
  }

  prepare(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#create("active", key, parent, opts);
  }

  view(key: string, parent?: string, opts: SnapshotOptions = {}): Promise<Mount[]> {
    return this.#create("view", key, parent, opts);
  }

  commit(name: string, key: string, opts: SnapshotOptions = {}): Promise<void> {
    return this.#exclusive(async () => {
      const { rec, info } = checkCommit(this.#byName, name, key, { ...opts, now: this.#clock.now() });
      const dir = this.#snapshotDir(rec.id);
      if (this.#syncOnCommit) await syncFilesystem(join(dir, "fs"));
      await this.#writeMeta(rec.id, info);
      this.#byName.delete(key);
      this.#byName.set(name, { id: rec.id, info });
      rmSync(join(dir, "work"), { recursive: true, force: true });
    });
  }

  async mounts(key: string): Promise<Mount[]> {
    await this.#load();
    return this.#mountsOf(checkMounts(this.#byName, key));
  }

  remove(key: string): Promise<void> {
    return this.#exclusive(async () => {
      const rec = checkRemove(this.#byName, key);
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
    return walkTable(this.#byName);
  }

  async usage(key: string): Promise<SnapshotUsage> {
    await this.#load();
    return treeUsage(join(this.#snapshotDir(getSnapshot(this.#byName, key).id), "fs"));
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
    return this.#exclusive(async () => {
      checkCreate(this.#byName, key, parent);
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
