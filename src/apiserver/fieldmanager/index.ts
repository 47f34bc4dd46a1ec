/**
 * managedFields (FieldsV1) for Update and server-side Apply, with apply conflicts.
 */
export { updateManagedFields, serverSideApply, ApplyConflictError } from "./managers.js";
export type { ApplyOptions } from "./managers.js";
export { FieldSet, pathString } from "./fieldset.js";
export type { FieldPath } from "./fieldset.js";
