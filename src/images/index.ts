export type {
  AuthConfig, FilesystemIdentifier, FilesystemUsage, Image, ImageFilter, ImageFsInfoResponse, ImageService, ImageSpec, ImageStatusResponse, Int64Value,
  PodSandboxConfig, PodSandboxMetadata, PullImageResponse, UInt64Value,
} from "./cri.js";
export { CriImageService } from "./cri-image-service.js";
export type { CriImageServiceOptions } from "./cri-image-service.js";
export { parseAuth } from "./cri-auth.js";
export { LocalImageService } from "./local-image-service.js";
export type { ImageDetails, LocalImageServiceOptions, LocalPullOptions, RemoveResult } from "./local-image-service.js";
export { layerSizes, layerSnapshots } from "./image-layers.js";
export { findImage } from "./find-image.js";
export type { FoundImage } from "./find-image.js";
export type { PushEvent } from "./push-image.js";
export type { FetchedManifest, LayerStatus, PullClient, PullEvent, PullOptions, PullResult, PushClient, RegistryCredentials, RegistryResolver } from "./types.js";
export type { RegisterOptions } from "./register-image.js";
export { fsck } from "./fsck.js";
export type { FsckDeps, FsckProblem, FsckReport } from "./fsck.js";
export { saveImages } from "./archive/save-archive.js";
export type { SaveOptions } from "./archive/save-archive.js";
export { loadArchive } from "./archive/load-archive.js";
export type { LoadedImage, LoadResult } from "./archive/load-archive.js";
export { IMPORT_CREATED_BY, importRootfs } from "./archive/import-rootfs.js";
export type { ImportOptions, ImportResult } from "./archive/import-rootfs.js";
export { applyChanges } from "./archive/image-changes.js";
export type { ContainerConfig } from "./archive/image-changes.js";
export type { ArchiveFormat, ArchiveImageService } from "./archive/archive-types.js";
export { LOCAL_MANIFEST_LABEL, NEEDS_PULL_LABEL, hasRepoDigest } from "./image-labels.js";
export type { ContainerEventRecorder, EnsureImageRequest, EnsureImageResult, ImageErrorReason, ImageManager, ImageManagerConfig } from "./image-manager-types.js";
export * from "./manager/index.js";
