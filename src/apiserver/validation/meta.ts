/** ObjectMeta checks (apimachinery api/validation/objectmeta.go). */
import type { ObjectMeta } from "../../api/index.js";
import { forbidden, invalid, required, tooLong, type FieldError } from "./errors.js";
import { isDNS1123Label, isQualifiedName, isValidLabelValue } from "./names.js";

export type NameCheck = (name: string) => string[];

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(invalid(path, k, m));
    for (const m of isValidLabelValue(String(v))) errs.push(invalid(path, v, m));
  }
  return errs;
}

const ANNOTATIONS_LIMIT = 256 * 1024;

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v));
  }
  if (size > ANNOTATIONS_LIMIT) errs.push(tooLong(path, ANNOTATIONS_LIMIT));
  return errs;
}

/** The trailing dash of a generateName is allowed (the server appends random characters). */
const maskTrailingDash = (s: string): string => (s.length > 1 && s.endsWith("-") ? `${s.slice(0, -2)}a` : s);

export function validateObjectMeta(meta: ObjectMeta | undefined, namespaced: boolean, nameCheck: NameCheck): FieldError[] {
  const errs: FieldError[] = [];
  const m = meta ?? {};
  if (m.generateName) for (const msg of nameCheck(maskTrailingDash(m.generateName))) errs.push(invalid("metadata.generateName", m.generateName, msg));
  if (!m.name) {
    if (!m.generateName) errs.push(required("metadata.name", "name or generateName is required"));
  } else {
    for (const msg of nameCheck(m.name)) errs.push(invalid("metadata.name", m.name, msg));
  }
  if (namespaced) {
    if (!m.namespace) errs.push(required("metadata.namespace", ""));
    else for (const msg of isDNS1123Label(m.namespace)) errs.push(invalid("metadata.namespace", m.namespace, msg));
  } else if (m.namespace) {
    errs.push(forbidden("metadata.namespace", "not allowed on this type"));
  }
  if (m.generation !== undefined && m.generation < 0) errs.push(invalid("metadata.generation", m.generation, "must be greater than or equal to 0"));
  errs.push(...validateLabels(m.labels, "metadata.labels"));
  errs.push(...validateAnnotations(m.annotations, "metadata.annotations"));
  return errs;
}

function immutable(errs: FieldError[], path: string, next: unknown, old: unknown): void {
  if (next !== undefined && next !== old) errs.push(invalid(path, next, "field is immutable"));
}

/** What an update may not change in metadata. Fields the client left out are taken as unchanged. */
export function validateObjectMetaUpdate(next: ObjectMeta | undefined, old: ObjectMeta | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const n = next ?? {};
  const o = old ?? {};
  immutable(errs, "metadata.name", n.name, o.name);
  immutable(errs, "metadata.namespace", n.namespace || undefined, o.namespace || undefined);
  immutable(errs, "metadata.uid", n.uid, o.uid);
  immutable(errs, "metadata.creationTimestamp", n.creationTimestamp, o.creationTimestamp);
  return errs;
}
