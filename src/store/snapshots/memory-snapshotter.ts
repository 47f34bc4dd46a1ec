/**
 * A snapshotter with its metadata in memory, for tests (as distribution's `inmemory` driver
 * is for storage), built like containerd's "native" snapshotter: every snapshot is a whole
 * directory tree under the root it is given, `<root>/<id>/`, and every mount is a bind mount
 * of it. Preparing or viewing on a parent copies the parent's tree (`cp -a`); committing
 * keeps the tree as it is; a commit that rebases (`opts.parent`) copies the parent and
 * stacks the layer's tree on it, whiteouts and opaque directories applied
 * (mergeOverlayDiff). So stacked snapshots never need overlayfs, and `usage` counts a
 * snapshot's whole tree.
 *
 * The metadata lives and dies with the instance; the directories stay until `remove` or
 * `cleanup()` (which removes every directory no snapshot of this instance owns). Copies
 * keep owners and devices, so stacking trees made as root needs root.
 */
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { realClock, type Clock } from "../../clock/index.js";
import { errnoCode } from "../../errdefs/index.js";
import { mergeOverlayDiff, copyTree } from "./merge-overlay-diff.js";
import { checkCommit, checkCreate, checkMounts, checkRemove, copyInfo, getSnapshot, walkTable } from "./snapshot-rules.js";
import type { Mount, SnapshotInfo, SnapshotOptions, SnapshotUsage, Snapshotter } from "./snapshotter.js";
import { treeUsage } from "./tree-usage.js";

export interface MemorySnapshotterOptions {
  /** The source of `createdAt`; the real clock by default. */
  clock?: Clock;
}

interface MemoryRecord {
  id: string;
  info: SnapshotInfo;
}

export class MemorySnapshotter implements Snapshotter {
  readonly root: string;
  readonly #clock: Clock;
  readonly #byName = new Map<string, MemoryRecord>();
  #nextId = 1;
  #queue: Promise<unknown> = Promise.resolve();

  /** `root` holds the snapshots' directories; it is created if needed and should be empty. */
  constructor(root: string, opts: MemorySnapshotterOptions = {}) {
    this.root = resolve(root);
    this.#clock = opts.clock ?? realClock;
  }

  async stat(key: string): Promise<SnapshotInfo> {
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
      let id = rec.id;
      if (opts.parent !== undefined) {
        // The tree is a layer on its own: the committed snapshot is the parent's tree with it on top.
        id = await this.#newDir(getSnapshot(this.#byName, opts.parent).id);
        try {
          await mergeOverlayDiff(this.#dir(rec.id), this.#dir(id));
        } catch (err) {
          await rm(this.#dir(id), { recursive: true, force: true });
          throw err;
        }
        await rm(this.#dir(rec.id), { recursive: true, force: true });
      }
      this.#byName.delete(key);
      this.#byName.set(name, { id, info });
    });
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.#mountsOf(checkMounts(this.#byName, key));
  }

  remove(key: string): Promise<void> {
    return this.#exclusive(async () => {
      const rec = checkRemove(this.#byName, key);
      this.#byName.delete(key);
      await rm(this.#dir(rec.id), { recursive: true, force: true });
    });
  }

  async walk(): Promise<SnapshotInfo[]> {
    return walkTable(this.#byName);
  }

  async usage(key: string): Promise<SnapshotUsage> {
    return treeUsage(this.#dir(getSnapshot(this.#byName, key).id));
  }

  /** Removes every directory under the root that no snapshot owns (what a failed copy left); returns their paths. */
  cleanup(): Promise<string[]> {
    return this.#exclusive(async () => {
      const owned = new Set([...this.#byName.values()].map((r) => r.id));
      const removed: string[] = [];
      await mkdir(this.root, { recursive: true });
      for (const entry of (await readdir(this.root)).sort()) {
        if (owned.has(entry)) continue;
        await rm(join(this.root, entry), { recursive: true, force: true });
        removed.push(join(this.root, entry));
      }
      return removed;
    });
  }

  #create(kind: "active" | "view", key: string, parent: string | undefined, opts: SnapshotOptions): Promise<Mount[]> {
    return this.#exclusive(async () => {
      const p = checkCreate(this.#byName, key, parent);
      const id = await this.#newDir(p?.id);
      const info: SnapshotInfo = { name: key, kind, createdAt: this.#clock.now(), labels: { ...opts.labels } };
      if (parent !== undefined) info.parent = parent;
      const rec = { id, info };
      this.#byName.set(key, rec);
      return this.#mountsOf(rec);
    });
  }

  /** A new snapshot directory: empty (0755), or a copy of the tree of snapshot `from`. */
  async #newDir(from: string | undefined): Promise<string> {
    await mkdir(this.root, { recursive: true });
    let id = String(this.#nextId++);
    // ids already taken on disk (another instance's, or a leftover) are skipped
    while (!(await mkdirNew(this.#dir(id)))) id = String(this.#nextId++);
    const dir = this.#dir(id);
    try {
      await chmod(dir, 0o755); // whatever the umask
      if (from !== undefined) await copyTree(this.#dir(from), dir);
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return id;
  }

  #mountsOf(rec: MemoryRecord): Mount[] {
    return [{ type: "bind", source: this.#dir(rec.id), options: [rec.info.kind === "active" ? "rw" : "ro", "rbind"] }];
  }

  #dir(id: string): string {
    return join(this.root, id);
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** Creates the directory `path`; false when something is already there. */
async function mkdirNew(path: string): Promise<boolean> {
  try {
    await mkdir(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "EEXIST") return false;
    throw err;
  }
}
