export { Digester, digestAlgorithm, digestEncoded, digestOf, isDigest, isDigestAlgorithm, parseDigest } from "./digest.js";
export type { Digest, DigestAlgorithm } from "./digest.js";
export { MediaType, MANIFEST_ACCEPT, MANIFEST_MEDIA_TYPES, isIndexMediaType, isManifestMediaType, isNondistributable } from "./media-types.js";
export { parseManifest, referencedDescriptors, validateDescriptor } from "./manifest.js";
export type { Descriptor, ImageIndex, ImageManifest, ParsedManifest, Platform } from "./manifest.js";
