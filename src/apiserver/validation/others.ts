/** Validation of the kinds beside pods (pkg/apis/core/validation, coordination, events). */
import type { KubeObject } from "../../api/index.js";
import { forbidden, invalid, required, tooLong, type FieldError } from "./errors.js";
import { validateObjectMeta, validateObjectMetaUpdate } from "./meta.js";
import { isConfigMapKey, isDNS1123Label, isDNS1123Subdomain } from "./names.js";

type Obj = KubeObject & Record<string, unknown>;
const MAX_SIZE = 1024 * 1024;

function base64Length(v: unknown): number {
  return typeof v === "string" ? Buffer.from(v, "base64").length : 0;
}

function dataKeys(errs: FieldError[], data: unknown, path: string): number {
  let size = 0;
  for (const [k, v] of Object.entries((data ?? {}) as Record<string, unknown>)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`${path}[${k}]`, k, m));
    size += path === "data" || path === "binaryData" ? (typeof v === "string" ? v.length : 0) : 0;
  }
  return size;
}

const SECRET_REQUIRED_KEYS: Record<string, string[]> = {
  "kubernetes.io/dockercfg": [".dockercfg"],
  "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
  "kubernetes.io/ssh-auth": ["ssh-privatekey"],
  "kubernetes.io/tls": ["tls.crt", "tls.key"],
};

export function validateSecret(s: Obj): FieldError[] {
  const errs = validateObjectMeta(s.metadata, true, isDNS1123Subdomain);
  const data = (s.data ?? {}) as Record<string, unknown>;
  let size = 0;
  for (const [k, v] of Object.entries(data)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`data[${k}]`, k, m));
    size += base64Length(v);
  }
  if (size > MAX_SIZE) errs.push(tooLong("data", MAX_SIZE));
  const type = typeof s.type === "string" ? s.type : "";
  for (const key of SECRET_REQUIRED_KEYS[type] ?? []) {
    if (!(key in data)) errs.push(required(`data[${key}]`, ""));
  }
  if (type === "kubernetes.io/dockerconfigjson" && typeof data[".dockerconfigjson"] === "string") {
    try {
      JSON.parse(Buffer.from(data[".dockerconfigjson"], "base64").toString("utf8"));
    } catch (e) {
      errs.push(invalid("data[.dockerconfigjson]", "<secret contents redacted>", e instanceof Error ? e.message : String(e)));
    }
  }
  if (type === "kubernetes.io/basic-auth" && !("username" in data) && !("password" in data)) {
    errs.push(required("data[username]", ""), required("data[password]", ""));
  }
  return errs;
}

function immutableData(errs: FieldError[], next: Obj, old: Obj, fields: string[]): void {
  if (old.immutable !== true) return;
  for (const f of fields) {
    if (JSON.stringify(next[f] ?? {}) !== JSON.stringify(old[f] ?? {})) errs.push(forbidden(f, "field is immutable when `immutable` is set"));
  }
  if (next.immutable !== true) errs.push(forbidden("immutable", "field is immutable when `immutable` is set"));
}

export function validateSecretUpdate(next: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(next.metadata, old.metadata), ...validateSecret(next)];
  if ((next.type ?? "Opaque") !== (old.type ?? "Opaque")) errs.push(invalid("type", next.type, "field is immutable"));
  immutableData(errs, next, old, ["data"]);
  return errs;
}

export function validateConfigMap(c: Obj): FieldError[] {
  const errs = validateObjectMeta(c.metadata, true, isDNS1123Subdomain);
  const data = (c.data ?? {}) as Record<string, unknown>;
  const binary = (c.binaryData ?? {}) as Record<string, unknown>;
  let size = dataKeys(errs, data, "data");
  for (const [k, v] of Object.entries(binary)) {
    for (const m of isConfigMapKey(k)) errs.push(invalid(`binaryData[${k}]`, k, m));
    if (k in data) errs.push(invalid(`binaryData[${k}]`, k, "duplicate of key present in data"));
    size += base64Length(v);
  }
  if (size > MAX_SIZE) errs.push(tooLong("", MAX_SIZE));
  return errs;
}

export function validateConfigMapUpdate(next: Obj, old: Obj): FieldError[] {
  const errs = [...validateObjectMetaUpdate(next.metadata, old.metadata), ...validateConfigMap(next)];
  immutableData(errs, next, old, ["data", "binaryData"]);
  return errs;
}

export function validateEvent(e: Obj): FieldError[] {
  const errs = validateObjectMeta(e.metadata, true, isDNS1123Subdomain);
  const involved = (e.involvedObject ?? e.regarding) as { namespace?: string; kind?: string } | undefined;
  const path = e.involvedObject ? "involvedObject.namespace" : "regarding.namespace";
  const clusterScoped = involved?.kind === "Node" || involved?.kind === "Namespace";
  if (involved?.namespace && !clusterScoped && involved.namespace !== e.metadata.namespace) {
    errs.push(invalid(path, involved.namespace, "does not match event.namespace"));
  }
  return errs;
}

export function validateLease(l: Obj): FieldError[] {
  const errs = validateObjectMeta(l.metadata, true, isDNS1123Subdomain);
  const spec = (l.spec ?? {}) as { leaseDurationSeconds?: number; leaseTransitions?: number };
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds !== null && spec.leaseDurationSeconds <= 0) {
    errs.push(invalid("spec.leaseDurationSeconds", spec.leaseDurationSeconds, "must be greater than 0"));
  }
  if (spec.leaseTransitions !== undefined && spec.leaseTransitions !== null && spec.leaseTransitions < 0) {
    errs.push(invalid("spec.leaseTransitions", spec.leaseTransitions, "must be greater than or equal to 0"));
  }
  return errs;
}

export const validateNamespace = (n: Obj): FieldError[] => validateObjectMeta(n.metadata, false, isDNS1123Label);
export const validateNode = (n: Obj): FieldError[] => validateObjectMeta(n.metadata, false, isDNS1123Subdomain);
export const validateServiceAccount = (s: Obj): FieldError[] => validateObjectMeta(s.metadata, true, isDNS1123Subdomain);
