/**
 * Image references with distribution/reference v0.6.0 semantics: parsing,
 * Docker Hub normalization, familiar forms, and kubelet's image-name helpers.
 */
export { parseReference } from "./parse.js";
export { InvalidReferenceError } from "./errors.js";
export {
  DEFAULT_DOMAIN,
  DEFAULT_TAG,
  parseDockerRef,
  parseNormalizedNamed,
  splitDockerDomain,
  tagNameOnly,
} from "./normalize.js";
export { familiarName, familiarString } from "./familiar.js";
export { isNameOnly, trimNamed, withDigest, withTag } from "./reference.js";
export type { Reference } from "./reference.js";
export { applyDefaultImageTag, parseImageName } from "./image-name.js";
export type { ImageName } from "./image-name.js";
export { validateRepositoryName, validateTag } from "./validate.js";
export { REPOSITORY_NAME_TOTAL_LENGTH_MAX } from "./grammar.js";
