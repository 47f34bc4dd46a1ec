export { Digester, digestAlgorithm, digestEncoded, digestOf, isDigest, isDigestAlgorithm, parseDigest } from "./digest.js";
export type { Digest, DigestAlgorithm } from "./digest.js";
export { MediaType, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, isIndexMediaType, isManifestMediaType, isNondistributable } from "./media-types.js";
export { parseManifest, referencedDescriptors, validateDescriptor } from "./manifest.js";
export type { Descriptor, ImageIndex, ImageManifest, ParsedManifest, Platform } from "./manifest.js";
export { layerPath, packLayer, sortLayerEntries, writeLayer } from "./layer-tar.js";
export { tarStream } from "./tar-stream.js";
export type { FileStreamSource, LayerDirEntry, LayerEntry, LayerFileEntry, LayerHardlinkEntry, LayerSymlinkEntry, WriteLayerOptions, WrittenLayer } from "./layer-tar.js";
export {
  REF_NAME_ANNOTATION, imageConfig, initImageLayout, ociArchitecture, readImageLayout, writeBlob, writeImageLayout, writeLayoutLayer,
} from "./image-layout.js";
export type { HistoryEntry, ImageConfig, ImageConfigOptions, ImageLayout, LayoutLayer, WriteImageLayoutOptions, WrittenImage } from "./image-layout.js";
export { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformMatcher, selectManifest } from "./platform.js";
export type { HostPlatformSource, PlatformMatcher, SelectManifestOptions } from "./platform.js";
