/**
 * The fixed error texts of distribution/reference (`errors.go`, `normalize.go`),
 * word for word: clients and users match on them.
 */
export const ERR_NAME_EMPTY = "repository name must have at least one component";
export const ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase";
export const ERR_REFERENCE_INVALID_FORMAT = "invalid reference format";
export const ERR_NAME_TOO_LONG = "repository name must not be more than 255 characters";
export const ERR_TAG_INVALID_FORMAT = "invalid tag format";

/** `ParseNormalizedNamed`'s rejection of a bare image ID. */
export function errHexRepositoryName(s: string): string {
  return `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`;
}

/** `ParseNormalizedNamed`'s rejection of an uppercase remote name. */
export function errRemoteNotLowercase(remote: string): string {
  return `invalid reference format: repository name (${remote}) must be lowercase`;
}
