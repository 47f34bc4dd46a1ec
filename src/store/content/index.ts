export type {
  BlobProvider, BlobWriter, CommitOptions, ContentManager, ContentStore, Info, IngestManager, IngestStatus, Ingester, ReadRange, WriterOptions,
} from "./content.js";
export { LocalContentStore } from "./local-content-store.js";
export type { LocalContentStoreOptions } from "./local-content-store.js";
export { MemoryContentStore } from "./memory-content-store.js";
export type { MemoryContentStoreOptions } from "./memory-content-store.js";
export { readBlob } from "./read-blob.js";
export type { ReadBlobOptions } from "./read-blob.js";
export { MAX_LABEL_SIZE, validateLabels } from "./validate-labels.js";
export { corruptBlobError, hashBlob, hashBytes, matchesBlob, verifiedStream } from "./verify-blob.js";
export type { ExpectedBlob, HashedBlob } from "./verify-blob.js";
