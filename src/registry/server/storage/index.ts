export { BlobStore } from "./blob-store.js";
export type { BlobInfo, BlobStoreOptions } from "./blob-store.js";
export { RepositoryStore } from "./repository-store.js";
export type { ManifestRevision } from "./repository-store.js";
export { UploadStore, rangeHeaders } from "./upload-store.js";
export type { AppendOptions, UploadState } from "./upload-store.js";
export { writeFileAtomic, readTextIfExists, listDir } from "./fs-util.js";
