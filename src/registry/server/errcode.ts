/**
 * The server's error codes are the shared table of src/registry/api (its errcode.ts);
 * handlers and storage throw `RegistryError`s or podyard's error classes, and only the
 * edge (`RegistryServer`'s writeError, the token endpoint) turns them into bodies with
 * `toRegistryError` and `errorBody`.
 */
export { OCI_CODES, RegistryError, errorBody, toRegistryError } from "../api/index.js";
export type { OciErrorCode, RegistryErrorOptions } from "../api/index.js";
