/**
 * The snapshotter interface (containerd's `core/snapshots/snapshotter.go`): filesystem
 * trees stacked on parents, handed out as mounts that the runtime performs.
 */

/**
 * One mount the caller performs: `mount -t <type> -o <options...> <source> <target>`.
 * `bind` mounts carry `rbind` and `ro` or `rw` in their options. An overlay over many
 * snapshots can carry more options than mount(2) takes: perform it as `compactMount` says.
 */
export interface Mount {
  type: string;
  source: string;
  options: string[];
}

export type SnapshotKind = "active" | "view" | "committed";

export interface SnapshotInfo {
  /** The key of an active snapshot or view, the name of a committed one. */
  name: string;
  /** The committed snapshot this one is stacked on; absent for a base. */
  parent?: string;
  kind: SnapshotKind;
  /** Milliseconds since the epoch, from the snapshotter's clock. */
  createdAt: number;
  labels: Record<string, string>;
}

export interface SnapshotUsage {
  /** Bytes on disk (allocated blocks) of the snapshot's own tree, without its parents. */
  size: number;
  /** Distinct inodes in the snapshot's own tree. */
  inodes: number;
}

export interface SnapshotOptions {
  labels?: Record<string, string>;
  /**
   * For `commit` only: stack the committed snapshot on this committed snapshot (containerd
   * 2's rebase, `snapshots.WithParent`). The active snapshot must have been prepared without
   * a parent, and its tree must be what the layer adds on top of `parent` (as a layer
   * extracted on its own is). Layers can then be unpacked side by side and committed in order.
   */
  parent?: string;
}

/**
 * Snapshots are directory trees stacked on parents. Every snapshot has one string that names it,
 * unique within the snapshotter:
 *
 * - `key` names an **active** snapshot (from `prepare`) or a **view** (from `view`). An active
 *   snapshot is writable: its mounts put a fresh upper directory over its parents. A view is
 *   read-only and can never be committed.
 * - `name` names a **committed** snapshot: `commit(name, key)` turns the active snapshot `key`
 *   into the read-only snapshot `name`, after which `key` no longer exists. Committed snapshots
 *   are never written again; only they can be parents.
 * - `parent` is the name of the committed snapshot a new snapshot is stacked on (omitted for a
 *   base, which starts empty). A snapshot's parents are its parent, that one's parent, and so on.
 *
 * Lifecycle: `prepare(key, parent)` → write into the mounts → `commit(name, key)`; or
 * `view(key, parent)` → read → `remove(key)`. `mounts(key)` returns an active snapshot's or a
 * view's mounts again. `remove` refuses a snapshot that is still a parent.
 *
 * The snapshotter never mounts anything itself: it returns `Mount`s and the caller performs them.
 */
export interface Snapshotter {
  /** The snapshot `key` (a key or a name); NotFoundError if there is none. */
  stat(key: string): Promise<SnapshotInfo>;
  /** Makes the active snapshot `key` on `parent`; AlreadyExistsError if `key` is taken. */
  prepare(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  /** Makes the read-only view `key` of `parent`; it can be removed but not committed. */
  view(key: string, parent?: string, opts?: SnapshotOptions): Promise<Mount[]>;
  /** Turns the active snapshot `key` into the committed snapshot `name` (on `opts.parent`, when given). */
  commit(name: string, key: string, opts?: SnapshotOptions): Promise<void>;
  /** The mounts of the active snapshot or view `key`; FailedPreconditionError for a committed one. */
  mounts(key: string): Promise<Mount[]>;
  /** Removes `key` and its tree; FailedPreconditionError while it is some snapshot's parent. */
  remove(key: string): Promise<void>;
  /** Every snapshot, oldest first. */
  walk(): Promise<SnapshotInfo[]>;
  /** What the snapshot's own tree takes on disk. */
  usage(key: string): Promise<SnapshotUsage>;
  /** Removes what crashes left behind (trees without metadata); returns the paths removed. */
  cleanup(): Promise<string[]>;
}
