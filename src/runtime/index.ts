export type * from "./cri.js";
export { OciRuntimeService } from "./oci-runtime-service.js";
export type { OciRuntimeServiceOptions } from "./oci-runtime-service.js";
export type { Change } from "./container-diff.js";
export { overlayChanges } from "./container-diff.js";
export type { OciRuntimeName } from "./oci-runtime.js";
export { capabilities, DEFAULT_CAPABILITIES, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, generateSpec, processArgs, processEnv } from "./oci-spec.js";
export type { OciSpec, SpecInput } from "./oci-spec.js";
