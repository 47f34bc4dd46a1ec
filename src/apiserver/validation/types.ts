/**
 * Values of the wrong JSON type (a string for a list, a list for a string), found before any
 * defaulting or validation reads them: kube-apiserver's decoder refuses these bodies, with Go's
 * encoding/json wording, `json: cannot unmarshal <value> into Go struct field <Struct>.<path> of
 * type <Go type>` (the path of JSON names without list indexes, the struct the field is in), so
 * no later step ever meets a string where it expects a list.
 */
import { DEFINITIONS, RESOURCES, definitionOf, isList, isMap, type Definition, type FieldType } from "../openapi/index.js";
import { QUANTITY_FORMAT_ERROR, quantityValue } from "./quantity.js";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The integer fields k8s.io/api declares int64; all others are int32. */
const INT64_FIELDS = new Set([
  "generation", "observedGeneration", "deletionGracePeriodSeconds", "terminationGracePeriodSeconds", "activeDeadlineSeconds",
  "runAsUser", "runAsGroup", "fsGroup", "supplementalGroups", "expirationSeconds", "gracePeriodSeconds",
]);

/** A JSON value's kind as encoding/json names it in an UnmarshalTypeError. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v === "object" ? "object" : typeof v;
}

/** `io.k8s.api.core.v1.Container` → `v1.Container` (Go's reflect.Type String). */
function goDefName(name: string): string {
  const parts = name.split(".");
  return `${parts[parts.length - 2] ?? ""}.${parts[parts.length - 1] ?? ""}`;
}
const structName = (d: Definition): string => d.name.split(".").pop() ?? d.name;

function goType(t: FieldType, field: string): string {
  const d = definitionOf(t);
  if (d) return goDefName(d.name);
  if (typeof t === "object") {
    if (isList(t)) return `[]${goType(t.list, field)}`;
    if (isMap(t)) return t.map === "quantity" ? "v1.ResourceList" : `map[string]${goType(t.map, field)}`;
  }
  switch (t) {
    case "integer": return INT64_FIELDS.has(field) ? "int64" : "int32";
    case "number": return "float64";
    case "boolean": return "bool";
    case "bytes": return "[]uint8";
    case "intOrString": return "int32";
    default: return "string";
  }
}

interface Ctx { struct: string; path: string[]; field: string }

function mismatch(value: unknown, t: FieldType, ctx: Ctx, what = jsonKind(value)): string {
  const type = goType(t, ctx.field);
  if (ctx.path.length === 0) return `json: cannot unmarshal ${what} into Go value of type ${type}`;
  return `json: cannot unmarshal ${what} into Go struct field ${ctx.struct}.${ctx.path.join(".")} of type ${type}`;
}

/** An integer field's value: a whole number that fits, else Go's `number <literal>`. */
function checkInteger(value: number, t: FieldType, ctx: Ctx): string | undefined {
  const int64 = goType(t, ctx.field) === "int64";
  const limit = int64 ? 2 ** 63 : 2 ** 31;
  if (Number.isInteger(value) && value >= -limit && value < limit) return undefined;
  return mismatch(value, t, ctx, `number ${String(value)}`);
}

function checkValue(t: FieldType, value: unknown, ctx: Ctx): string | undefined {
  if (value === null) return undefined; // null leaves any Go field at its zero value
  const d = definitionOf(t);
  if (d) return isObject(value) ? checkStruct(d, value, ctx.path) : mismatch(value, t, ctx);
  if (typeof t === "object") {
    if (isList(t)) {
      if (!Array.isArray(value)) return mismatch(value, t, ctx);
      for (const item of value) {
        const e = checkValue(t.list, item, ctx);
        if (e) return e;
      }
      return undefined;
    }
    if (!isObject(value)) return mismatch(value, t, ctx);
    for (const v of Object.values(value)) {
      const e = checkValue(t.map, v, ctx);
      if (e) return e;
    }
    return undefined;
  }
  switch (t) {
    case "string": case "time": case "microtime": case "bytes":
      return typeof value === "string" ? undefined : mismatch(value, t, ctx);
    case "boolean":
      return typeof value === "boolean" ? undefined : mismatch(value, t, ctx);
    case "number":
      return typeof value === "number" ? undefined : mismatch(value, t, ctx);
    case "integer":
      return typeof value === "number" ? checkInteger(value, t, ctx) : mismatch(value, t, ctx);
    case "intOrString":
      if (typeof value === "string") return undefined;
      return typeof value === "number" ? checkInteger(value, t, ctx) : mismatch(value, t, ctx);
    case "quantity":
      // resource.Quantity's own UnmarshalJSON: a string or a bare number, else its parse error.
      return quantityValue(value).error === undefined ? undefined : QUANTITY_FORMAT_ERROR;
    default:
      return undefined; // any, fieldsV1: free-form
  }
}

function checkStruct(d: Definition, value: Obj, path: string[]): string | undefined {
  for (const [k, v] of Object.entries(value)) {
    const f = d.fields[k];
    if (!f) continue; // unknown fields are fieldValidation's business
    const e = checkValue(f.type, v, { struct: structName(d), path: [...path, k], field: k });
    if (e) return e;
  }
  return undefined;
}

/** The definition of a `resource` object (plural name) in `group`. */
function kindDefinition(resource: string, group?: string): Definition | undefined {
  const info = RESOURCES[resource];
  if (!info) return undefined;
  const g = group ?? info.group;
  return [...DEFINITIONS.values()].find((x) => x.gvk?.kind === info.kind && x.gvk.group === g);
}

/**
 * The first value of `body` (a `resource` object) whose JSON type its schema does not allow, as
 * encoding/json's message, or undefined when every known field has a fitting type.
 */
export function decodeTypeError(resource: string, body: unknown, group?: string): string | undefined {
  const d = kindDefinition(resource, group);
  if (!d) return undefined;
  if (!isObject(body)) return mismatch(body, `#${d.name}`, { struct: "", path: [], field: "" });
  return checkStruct(d, body, []);
}

/** Go's `%+v` of a decoded JSON value (the patch in a strategic merge patch's 422). */
export function goFormat(v: unknown): string {
  if (v === null || v === undefined) return "<nil>";
  if (Array.isArray(v)) return `[${v.map(goFormat).join(" ")}]`;
  if (isObject(v)) return `map[${Object.keys(v).sort().map((k) => `${k}:${goFormat(v[k])}`).join(" ")}]`;
  return String(v);
}
