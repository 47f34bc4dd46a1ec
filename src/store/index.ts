/**
 * The node's image store: a content store of blobs by digest (containerd's local
 * store), image records in the node database, and (in `snapshots/`) the snapshotter.
 */
export type {
  BlobProvider, BlobWriter, CommitOptions, ContentManager, ContentStore, Info, IngestManager, IngestStatus, Ingester, ReadRange, WriterOptions,
} from "./content/index.js";
export { LocalContentStore, MAX_LABEL_SIZE, readBlob, validateLabels } from "./content/index.js";
export type { LocalContentStoreOptions, ReadBlobOptions } from "./content/index.js";
export { ImageStore, STORE_MIGRATIONS, migrate, openDatabase, schemaVersion } from "./metadata/index.js";
export type {
  Database, ImageFilter, ImageRecord, ImageRecordInput, ImageStoreOptions, MigrateOptions, Migration, MigrationSet, OpenDatabaseOptions,
} from "./metadata/index.js";
export type {
  AppliedLayer, ApplyLayerOptions, Compression, DecompressOptions, FileFeed, Mount, OverlaySnapshotterOptions, SnapshotInfo, SnapshotKind, SnapshotOptions,
  SnapshotUsage, Snapshotter, LayerApplier, UnpackLayer, UnpackLayersOptions,
} from "./snapshots/index.js";
export { GrowingFile, OverlaySnapshotter, UNPACK_LABEL, WorkerLayerApplier, applyInThread, applyLayer, chainID, chainIDs, decompress, detectCompression, followFile, unpackLayers } from "./snapshots/index.js";
