/** Snapshots: the snapshotter interface and its overlayfs implementation (containerd's snapshots). */
export type { Mount, SnapshotInfo, SnapshotKind, SnapshotOptions, SnapshotUsage, Snapshotter } from "./snapshotter.js";
export { OverlaySnapshotter } from "./overlay-snapshotter.js";
export type { OverlaySnapshotterOptions } from "./overlay-snapshotter.js";
