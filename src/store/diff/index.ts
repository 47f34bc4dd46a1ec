/**
 * Layer extraction and unpacking (containerd's diff/apply and unpack): safe layer
 * extraction with whiteouts converted for overlayfs, decompression, the extraction
 * worker thread, growing-file feeds, and unpacking layers into snapshots by chainID.
 */
export { applyLayer } from "./apply-layer.js";
export type { AppliedLayer, ApplyLayerOptions } from "./apply-layer.js";
export { decompress, detectCompression } from "./decompress.js";
export type { Compression, DecompressOptions } from "./decompress.js";
export { UNPACK_LABEL, applyInThread, chainID, chainIDs, unpackLayers } from "./unpack.js";
export type { LayerApplier, UnpackLayer, UnpackLayersOptions } from "./unpack.js";
export { WorkerLayerApplier } from "./worker-applier.js";
export { GrowingFile, followFile } from "./file-feed.js";
export type { FileFeed } from "./file-feed.js";
