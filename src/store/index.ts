/**
 * The node's image store: a content store of blobs by digest (containerd's local
 * store), image records in the node database, the snapshotter (`snapshots/`),
 * and layer extraction and unpacking (`diff/`).
 */
export type {
  BlobProvider, BlobWriter, CommitOptions, ContentManager, ContentStore, Info, IngestManager, IngestStatus, Ingester, ReadRange, WriterOptions,
} from "./content/index.js";
export { LocalContentStore, MAX_LABEL_SIZE, MemoryContentStore, readBlob, validateLabels } from "./content/index.js";
export type { LocalContentStoreOptions, MemoryContentStoreOptions, ReadBlobOptions } from "./content/index.js";
export { ImageStore, STORE_MIGRATIONS, isDangling, migrate, openDatabase, schemaVersion } from "./metadata/index.js";
export type {
  Database, ImageFilter, ImageRecord, ImageRecordInput, ImageStoreOptions, MigrateOptions, Migration, MigrationSet, OpenDatabaseOptions,
} from "./metadata/index.js";
export type {
  CompactMount, MemorySnapshotterOptions, Mount, OverlaySnapshotterOptions, SnapshotInfo, SnapshotKind, SnapshotOptions, SnapshotUsage, Snapshotter,
} from "./snapshots/index.js";
export { MOUNT_OPTIONS_MAX, MemorySnapshotter, OverlaySnapshotter, compactMount } from "./snapshots/index.js";
export type { AppliedLayer, ApplyLayerOptions, Compression, DecompressOptions, FileFeed, LayerApplier, UnpackLayer, UnpackLayersOptions } from "./diff/index.js";
export { GrowingFile, UNPACK_LABEL, WorkerLayerApplier, applyInThread, applyLayer, chainID, chainIDs, decompress, detectCompression, followFile, unpackLayers } from "./diff/index.js";
export { corruptBlobError, hashBlob, hashBytes, matchesBlob, verifiedStream } from "./content/index.js";
export type { ExpectedBlob, HashedBlob } from "./content/index.js";
