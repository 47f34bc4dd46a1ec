/**
 * The pure API semantics the REST layer calls: defaulting, validation, patches, managed fields,
 * tables and OpenAPI. Helper "api2" writes the full versions (./validation, ./patch,
 * ./fieldmanager, ./printers, ./openapi, src/api defaults); until they are merged these small
 * stand-ins keep the server working. Swapping is a change of the imports in this file only.
 */
import type { KubeObject, Pod } from "../api/index.js";
import { strategicMergePatch } from "./patch/index.js";

export { prepareForCreate, setDefaultsObject } from "../api/index.js";
export { jsonMergePatch, jsonPatch, PatchError, strategicMergePatch } from "./patch/index.js";
export { toTable } from "./printers/index.js";
export { buildOpenApiV3, GROUP_VERSIONS as OPENAPI_GROUP_VERSIONS, type GroupVersion as OpenApiGroupVersion } from "./openapi/index.js";

export interface FieldError {
  type: "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueDuplicate" | "FieldValueTooLong" | "FieldValueTypeInvalid";
  field: string;
  message: string;
}

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------- validation

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function validateObject(resource: string, obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = obj.metadata?.name;
  if (!name) errs.push({ type: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" });
  else if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) {
    errs.push({ type: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')` });
  }
  if (resource === "pods" && old === undefined) {
    const containers = ((obj as Pod).spec?.containers ?? []) as unknown as Obj[];
    if (containers.length === 0) errs.push({ type: "FieldValueRequired", field: "spec.containers", message: "Required value" });
    containers.forEach((c, i) => {
      if (!c.name) errs.push({ type: "FieldValueRequired", field: `spec.containers[${i}].name`, message: "Required value" });
      if (!c.image) errs.push({ type: "FieldValueRequired", field: `spec.containers[${i}].image`, message: "Required value" });
    });
  }
  return errs;
}

export function invalidMessage(kind: string, name: string, errs: FieldError[]): string {
  const parts = errs.map((e) => `${e.field}: ${e.message}`);
  return `${kind} "${name}" is invalid: ${parts.length === 1 ? parts[0] : `[${parts.join(", ")}]`}`;
}

export function unknownFields(_resource: string, _body: unknown): string[] {
  return [];
}

// ---------------------------------------------------------------- field managers

export function updateManagedFields(_old: KubeObject | undefined, _next: KubeObject, _manager: string, _operation: "Update", _subresource: string | undefined, _now: string): void {
  // The stand-in keeps no managedFields.
}

export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, opts: { manager: string; force: boolean; now: string; kind: string }): KubeObject {
  return strategicMergePatch(live ?? {}, applied, opts.kind) as KubeObject;
}


