/**
 * Fields the schema does not know, for fieldValidation=Strict (400) and Warn (a Warning header
 * each), named as kube-apiserver's strict decoder names them: `spec.containers[0].imag`.
 */
import { DEFINITIONS, RESOURCES, definitionOf, isList, isMap, type Definition, type FieldType } from "../openapi/index.js";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function walkType(t: FieldType, value: unknown, path: string, out: string[]): void {
  const d = definitionOf(t);
  if (d) {
    if (isObject(value)) walkDefinition(d, value, path, out);
    return;
  }
  if (typeof t !== "object") return;
  if (isList(t)) {
    if (Array.isArray(value)) value.forEach((item, i) => walkType(t.list, item, `${path}[${i}]`, out));
    return;
  }
  if (isMap(t) && isObject(value)) for (const [k, v] of Object.entries(value)) walkType(t.map, v, `${path}[${k}]`, out);
}

function walkDefinition(d: Definition, value: Obj, path: string, out: string[]): void {
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    const f = d.fields[k];
    if (!f) out.push(p);
    else walkType(f.type, v, p, out);
  }
}

/** Fields only an events.k8s.io/v1 Event has, to tell the two Event shapes apart when no group is given. */
const EVENTS_V1_ONLY = ["regarding", "note", "reportingController", "deprecatedSource", "deprecatedFirstTimestamp", "deprecatedLastTimestamp", "deprecatedCount"];

/**
 * The unknown fields of `body`, a `resource` object (plural name: `pods`), in the order they
 * appear. `group` picks between kinds that share a resource name (events: "" or
 * "events.k8s.io"); without it the body's apiVersion, then its shape, decide.
 */
export function unknownFields(resource: string, body: unknown, group?: string): string[] {
  const info = RESOURCES[resource];
  if (!info || !isObject(body)) return [];
  let g = group ?? info.group;
  if (group === undefined && resource === "events") {
    if (typeof body.apiVersion === "string") g = body.apiVersion === "events.k8s.io/v1" ? "events.k8s.io" : "";
    else if (EVENTS_V1_ONLY.some((k) => k in body) && !("involvedObject" in body)) g = "events.k8s.io";
  }
  const group_ = g;
  const d = [...DEFINITIONS.values()].find((x) => x.gvk?.kind === info.kind && x.gvk.group === group_);
  if (!d) return [];
  const out: string[] = [];
  walkDefinition(d, body, "", out);
  return out;
}

/** The 400 message for Strict: `strict decoding error: unknown field "a", unknown field "b"`. */
export function strictDecodingError(fields: string[]): string {
  return `strict decoding error: ${fields.map((f) => `unknown field ${JSON.stringify(f)}`).join(", ")}`;
}

/** The Warning header texts for Warn, one per field: `unknown field "spec.foo"` (sent as `299 - "<text>"`). */
export function unknownFieldWarnings(fields: string[]): string[] {
  return fields.map((f) => `unknown field ${JSON.stringify(f)}`);
}
