/**
 * Snapshots: the snapshotter interface, its overlayfs implementation, safe layer extraction
 * (whiteouts converted for overlayfs), layer decompression and unpacking by chainID.
 */
export type { Mount, SnapshotInfo, SnapshotKind, SnapshotOptions, SnapshotUsage, Snapshotter } from "./snapshotter.js";
export { OverlaySnapshotter } from "./overlay-snapshotter.js";
export type { OverlaySnapshotterOptions } from "./overlay-snapshotter.js";
export { applyLayer } from "./apply-layer.js";
export type { AppliedLayer, ApplyLayerOptions } from "./apply-layer.js";
export { decompress, detectCompression } from "./decompress.js";
export type { Compression, DecompressOptions } from "./decompress.js";
export { UNPACK_LABEL, applyInThread, chainID, chainIDs, unpackLayers } from "./unpack.js";
export type { LayerApplier, UnpackLayer, UnpackLayersOptions } from "./unpack.js";
export { WorkerLayerApplier } from "./worker-applier.js";
export { GrowingFile, followFile } from "./file-feed.js";
export type { FileFeed } from "./file-feed.js";
