/**
 * The pure API semantics the REST layer calls: defaulting, validation, patches, managed fields,
 * tables and OpenAPI. Helper "api2" writes the full versions (./validation, ./patch,
 * ./fieldmanager, ./printers, ./openapi, src/api defaults); until they are merged these small
 * stand-ins keep the server working. Swapping is a change of the imports in this file only.
 */
import { createHash } from "node:crypto";
import type { KubeObject, Pod, Table } from "../api/index.js";
import { InvalidArgumentError } from "../errdefs/index.js";

export interface FieldError {
  type: "FieldValueRequired" | "FieldValueInvalid" | "FieldValueNotSupported" | "FieldValueForbidden" | "FieldValueDuplicate" | "FieldValueTooLong" | "FieldValueTypeInvalid";
  field: string;
  message: string;
}

/** A patch that cannot be applied (the caller answers 422, or 400 for a malformed one). */
export class PatchError extends InvalidArgumentError {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- defaults

export function setDefaultsObject(resource: string, obj: KubeObject): void {
  const o = obj as unknown as Obj;
  if (resource === "pods") setDefaultsPod(obj as Pod);
  if (resource === "secrets" && !o.type) o.type = "Opaque";
  if (resource === "namespaces") {
    o.spec = { finalizers: ["kubernetes"], ...(isObj(o.spec) ? o.spec : {}) };
    o.status = { phase: "Active", ...(isObj(o.status) ? o.status : {}) };
  }
}

function setDefaultsPod(pod: Pod): void {
  const spec = (pod.spec ??= { containers: [] }) as unknown as Obj;
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  if (spec.serviceAccountName === undefined) spec.serviceAccountName = (spec.serviceAccount as string | undefined) ?? "default";
  spec.serviceAccount ??= spec.serviceAccountName;
  for (const list of ["containers", "initContainers"]) {
    for (const c of (spec[list] as Obj[] | undefined) ?? []) {
      const image = String(c.image ?? "");
      const tagged = /:[\w][\w.-]*$/.test(image.split("/").pop() ?? "") || image.includes("@");
      c.imagePullPolicy ??= !tagged || image.endsWith(":latest") ? "Always" : "IfNotPresent";
      c.terminationMessagePath ??= "/dev/termination-log";
      c.terminationMessagePolicy ??= "File";
      for (const p of (c.ports as Obj[] | undefined) ?? []) p.protocol ??= "TCP";
    }
  }
  const o = pod as unknown as Obj;
  const status = (o.status ??= {}) as Obj;
  status.qosClass ??= "BestEffort";
}

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

// ---------------------------------------------------------------- patches

export function jsonMergePatch(original: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(original) ? { ...original } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

const MERGE_KEYS: Record<string, string> = {
  containers: "name", initContainers: "name", ephemeralContainers: "name", volumes: "name", env: "name", ports: "containerPort",
  volumeMounts: "mountPath", imagePullSecrets: "name", conditions: "type", containerStatuses: "name", initContainerStatuses: "name",
  addresses: "type", hostAliases: "ip", podIPs: "ip", hostIPs: "ip",
};

export function strategicMergePatch(original: unknown, patch: unknown, kind: string): unknown {
  if (!isObj(patch)) return patch;
  const out: Obj = isObj(original) ? { ...original } : {};
  if (patch.$patch === "replace") return stripDirectives(patch);
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue;
    if (v === null) { delete out[k]; continue; }
    const order = patch[`$setElementOrder/${k}`];
    const key = MERGE_KEYS[k];
    if (Array.isArray(v) && key && Array.isArray(out[k])) {
      const merged = [...(out[k] as unknown[])];
      for (const item of v) {
        if (!isObj(item)) continue;
        const idx = merged.findIndex((m) => isObj(m) && m[key] === item[key]);
        if (item.$patch === "delete") { if (idx >= 0) merged.splice(idx, 1); continue; }
        if (idx >= 0) merged[idx] = strategicMergePatch(merged[idx], item, kind);
        else merged.push(stripDirectives(item));
      }
      out[k] = Array.isArray(order) ? sortBy(merged, order as Obj[], key) : merged;
    } else if (isObj(v)) {
      out[k] = strategicMergePatch(out[k], v, kind);
    } else {
      out[k] = v;
    }
  }
  for (const [k, order] of Object.entries(patch)) {
    const list = k.startsWith("$setElementOrder/") ? k.slice("$setElementOrder/".length) : undefined;
    const key = list ? MERGE_KEYS[list] : undefined;
    if (list && key && !(list in patch) && Array.isArray(out[list]) && Array.isArray(order)) out[list] = sortBy(out[list] as unknown[], order as Obj[], key);
  }
  return out;
}

function sortBy(items: unknown[], order: Obj[], key: string): unknown[] {
  const pos = (v: unknown): number => { const i = order.findIndex((o) => isObj(v) && o[key] === v[key]); return i < 0 ? order.length : i; };
  return [...items].sort((a, b) => pos(a) - pos(b));
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith("$")).map(([k, x]) => [k, stripDirectives(x)]));
}

export function jsonPatch(original: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc: unknown = structuredClone(original);
  for (const op of ops as Obj[]) {
    const path = String(op.path ?? "").split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = path.pop();
    const parent = path.reduce<unknown>((o, p) => (isObj(o) ? o[p] : Array.isArray(o) ? o[Number(p)] : undefined), doc);
    if (last === undefined) { if (op.op === "replace" || op.op === "add") doc = op.value; continue; }
    if (!isObj(parent) && !Array.isArray(parent)) throw new PatchError(`doc is missing path: "${String(op.path)}": missing value`);
    switch (op.op) {
      case "add": if (Array.isArray(parent)) parent.splice(last === "-" ? parent.length : Number(last), 0, op.value); else parent[last] = op.value; break;
      case "replace": if (Array.isArray(parent)) parent[Number(last)] = op.value; else { if (!(last in parent)) throw new PatchError(`replace operation does not apply: doc is missing key: ${String(op.path)}: missing value`); parent[last] = op.value; } break;
      case "remove": if (Array.isArray(parent)) parent.splice(Number(last), 1); else { if (!(last in parent)) throw new PatchError(`remove operation does not apply: doc is missing path: "${String(op.path)}": missing value`); delete parent[last]; } break;
      case "test": if (JSON.stringify(Array.isArray(parent) ? parent[Number(last)] : parent[last]) !== JSON.stringify(op.value)) throw new PatchError(`testing value ${String(op.path)} failed: test failed`); break;
      default: throw new PatchError(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return doc;
}

// ---------------------------------------------------------------- field managers

export function updateManagedFields(_old: KubeObject | undefined, _next: KubeObject, _manager: string, _operation: "Update", _subresource: string | undefined, _now: string): void {
  // The stand-in keeps no managedFields.
}

export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, opts: { manager: string; force: boolean; now: string; kind: string }): KubeObject {
  return strategicMergePatch(live ?? {}, applied, opts.kind) as KubeObject;
}

// ---------------------------------------------------------------- tables

export function toTable(resource: string, objs: KubeObject[], opts: { now: number; includeObject?: "None" | "Metadata" | "Object"; noHeaders?: boolean; resourceVersion?: string }): Table {
  return {
    kind: "Table", apiVersion: "meta.k8s.io/v1", metadata: opts.resourceVersion ? { resourceVersion: opts.resourceVersion } : {},
    columnDefinitions: opts.noHeaders ? [] : [
      { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
      { name: "Created At", type: "date", format: "", description: "When the object was created.", priority: 0 },
    ],
    rows: objs.map((o) => ({
      cells: [o.metadata.name, o.metadata.creationTimestamp],
      ...(opts.includeObject === "None" ? {} : {
        object: opts.includeObject === "Object" ? o : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
      }),
    })),
  };
}

// ---------------------------------------------------------------- OpenAPI

export type OpenApiGroupVersion = "api/v1" | "apis/events.k8s.io/v1" | "apis/coordination.k8s.io/v1";
export const OPENAPI_GROUP_VERSIONS: readonly OpenApiGroupVersion[] = ["api/v1", "apis/events.k8s.io/v1", "apis/coordination.k8s.io/v1"];

const GV_KINDS: Record<OpenApiGroupVersion, { group: string; version: string; kinds: [string, string, boolean][] }> = {
  "api/v1": { group: "", version: "v1", kinds: [["Pod", "pods", true], ["Event", "events", true], ["Node", "nodes", false], ["Namespace", "namespaces", false], ["Secret", "secrets", true], ["ConfigMap", "configmaps", true], ["ServiceAccount", "serviceaccounts", true]] },
  "apis/events.k8s.io/v1": { group: "events.k8s.io", version: "v1", kinds: [["Event", "events", true]] },
  "apis/coordination.k8s.io/v1": { group: "coordination.k8s.io", version: "v1", kinds: [["Lease", "leases", true]] },
};

export function openApiV3Document(gv: OpenApiGroupVersion): object {
  const { group, version, kinds } = GV_KINDS[gv];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const paths: Obj = {};
  for (const [kind, plural, namespaced] of kinds) {
    paths[`${base}${namespaced ? "/namespaces/{namespace}" : ""}/${plural}/{name}`] = {
      patch: {
        "x-kubernetes-group-version-kind": { group, version, kind },
        parameters: [{ name: "fieldValidation", in: "query", schema: { type: "string", uniqueItems: true } }],
        responses: { 200: { description: "OK" } },
      },
    };
  }
  return { openapi: "3.0.0", info: { title: "Kubernetes", version: "v1.32.4" }, paths, components: { schemas: {} } };
}

export function openApiV3Index(hashes: Record<string, string>): { paths: Record<string, { serverRelativeURL: string }> } {
  return { paths: Object.fromEntries(Object.entries(hashes).map(([gv, h]) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${h}` }])) };
}

/** The hash that names one OpenAPI document's version in the index (upper-case hex, as kube-apiserver's). */
export function openApiHash(doc: object): string {
  return createHash("sha512").update(JSON.stringify(doc)).digest("hex").toUpperCase().slice(0, 128);
}
