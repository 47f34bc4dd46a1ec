/**
 * The three patch formats of PATCH requests: strategic merge (kubectl's default), JSON merge
 * (RFC 7386) and JSON patch (RFC 6902). Pure functions over JSON values.
 */
export { strategicMergePatch } from "./strategic.js";
export { jsonMergePatch } from "./json-merge.js";
export { jsonPatch } from "./json-patch.js";
export { PatchError } from "./errors.js";
