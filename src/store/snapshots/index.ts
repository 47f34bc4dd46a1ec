/**
 * Snapshots: the snapshotter interface, its overlayfs implementation, and a copying one with
 * its metadata in memory, for tests (containerd's snapshots: overlay and native).
 */
export type { Mount, SnapshotInfo, SnapshotKind, SnapshotOptions, SnapshotUsage, Snapshotter } from "./snapshotter.js";
export { OverlaySnapshotter } from "./overlay-snapshotter.js";
export type { OverlaySnapshotterOptions } from "./overlay-snapshotter.js";
export { MemorySnapshotter } from "./memory-snapshotter.js";
export type { MemorySnapshotterOptions } from "./memory-snapshotter.js";
export { MOUNT_OPTIONS_MAX, compactMount } from "./compact-mount.js";
export type { CompactMount } from "./compact-mount.js";
