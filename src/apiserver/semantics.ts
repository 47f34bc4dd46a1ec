/**
 * The pure API semantics the REST layer calls, in one place: defaulting (src/api), validation,
 * patches, managed fields, tables and OpenAPI (helper "api2"'s modules). The REST layer imports
 * them only from here, so each can be replaced without touching it.
 */
export { prepareForCreate, setDefaultsObject } from "../api/index.js";
export { decodeTypeError, goFormat, invalidMessage, unknownFields, validateObject, type FieldError } from "./validation/index.js";
export { jsonMergePatch, jsonPatch, PatchError, strategicMergePatch } from "./patch/index.js";
export { ApplyConflictError, serverSideApply, updateManagedFields } from "./fieldmanager/index.js";
export { toTable } from "./printers/index.js";
export { buildOpenApiV3, GROUP_VERSIONS as OPENAPI_GROUP_VERSIONS, type GroupVersion as OpenApiGroupVersion } from "./openapi/index.js";
