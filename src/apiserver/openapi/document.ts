/**
 * The OpenAPI v3 documents kube-apiserver serves at /openapi/v3/<group-version>: a PATCH
 * operation per kind carrying x-kubernetes-group-version-kind and the fieldValidation query
 * parameter (what kubectl's apply/create look for before they send fieldValidation=Strict), and
 * components.schemas for every kind and all it contains (what `kubectl explain` reads).
 */
import { createHash } from "node:crypto";
import { DEFINITIONS, RESOURCES } from "./definitions.js";
import { isList, isMap, type Definition, type FieldType } from "./model.js";

export type GroupVersion = "api/v1" | "apis/events.k8s.io/v1" | "apis/coordination.k8s.io/v1";
export const GROUP_VERSIONS: readonly GroupVersion[] = ["api/v1", "apis/events.k8s.io/v1", "apis/coordination.k8s.io/v1"];

type Schema = Record<string, unknown>;
const SCHEMA_PREFIX = "#/components/schemas/";

const SCALARS: Record<string, Schema> = {
  string: { type: "string" },
  integer: { type: "integer", format: "int64" },
  number: { type: "number", format: "double" },
  boolean: { type: "boolean" },
  bytes: { type: "string", format: "byte" },
  any: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
};
const SHARED: Record<string, Schema> = {
  time: { $ref: `${SCHEMA_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.Time` },
  microtime: { $ref: `${SCHEMA_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime` },
  quantity: { $ref: `${SCHEMA_PREFIX}io.k8s.apimachinery.pkg.api.resource.Quantity` },
  intOrString: { $ref: `${SCHEMA_PREFIX}io.k8s.apimachinery.pkg.util.intstr.IntOrString` },
  fieldsV1: { $ref: `${SCHEMA_PREFIX}io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1` },
};
const SHARED_COMPONENTS: Record<string, Schema> = {
  "io.k8s.apimachinery.pkg.apis.meta.v1.Time": { type: "string", format: "date-time", description: "A UTC time in RFC 3339 form, to the second." },
  "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": { type: "string", format: "date-time", description: "A UTC time in RFC 3339 form, to the microsecond." },
  "io.k8s.apimachinery.pkg.api.resource.Quantity": { type: "string", description: "A number with an optional SI (k, M, G, m) or binary (Ki, Mi, Gi) suffix, e.g. 500m or 64Mi." },
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": { type: "string", format: "int-or-string", description: "An integer or a string." },
  "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1": { type: "object", description: "A set of fields as a trie." },
};

function typeSchema(t: FieldType, used: Set<string>): Schema {
  if (typeof t === "string") {
    if (t.startsWith("#")) {
      used.add(t.slice(1));
      return { $ref: SCHEMA_PREFIX + t.slice(1) };
    }
    const shared = SHARED[t];
    if (shared) {
      used.add(String(shared.$ref).slice(SCHEMA_PREFIX.length));
      return shared;
    }
    return SCALARS[t] ?? { type: "string" };
  }
  if (isList(t)) {
    const s: Schema = { type: "array", items: withDefault(typeSchema(t.list, used)) };
    if (t.listType) s["x-kubernetes-list-type"] = t.listType;
    if (t.keys) s["x-kubernetes-list-map-keys"] = t.keys;
    if (t.mergeKey) s["x-kubernetes-patch-merge-key"] = t.mergeKey;
    if (t.strategy) s["x-kubernetes-patch-strategy"] = t.strategy;
    return s;
  }
  if (isMap(t)) return { type: "object", additionalProperties: withDefault(typeSchema(t.map, used)) };
  return { type: "string" };
}

/** References to structs are wrapped in allOf with a default, as upstream's v3 documents do. */
function withDefault(s: Schema): Schema {
  if (typeof s.$ref === "string" && s.$ref.startsWith(`${SCHEMA_PREFIX}io.k8s.api.`)) return { allOf: [s], default: {} };
  return s;
}

function definitionSchema(d: Definition, used: Set<string>): Schema {
  const properties: Record<string, Schema> = {};
  for (const [name, f] of Object.entries(d.fields)) {
    const s = typeSchema(f.type, used);
    properties[name] = typeof s.$ref === "string" ? { allOf: [s], description: f.description, ...(s.$ref.includes(".api.") || s.$ref.includes("ObjectMeta") ? { default: {} } : {}) } : { ...s, description: f.description };
  }
  const out: Schema = { description: d.description, type: "object", properties };
  if (d.required) out.required = d.required;
  if (d.gvk) out["x-kubernetes-group-version-kind"] = [d.gvk];
  return out;
}

function schemasFor(roots: string[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.shift() as string;
    if (out[name]) continue;
    const d = DEFINITIONS.get(name);
    if (!d) {
      const shared = SHARED_COMPONENTS[name];
      if (shared) out[name] = shared;
      continue;
    }
    const used = new Set<string>();
    out[name] = definitionSchema(d, used);
    queue.push(...used);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const QUERY = (name: string, description: string): Schema => ({ name, in: "query", description, schema: { type: "string", uniqueItems: true } });
const WRITE_PARAMS = [
  QUERY("dryRun", "All: check the request without storing anything."),
  QUERY("fieldManager", "The name of the actor making the change, for managedFields."),
  QUERY("fieldValidation", "What to do with unknown or duplicate fields: Ignore, Warn or Strict."),
];

function gvOf(d: Definition): GroupVersion {
  const g = d.gvk?.group ?? "";
  return g === "" ? "api/v1" : (`apis/${g}/v1` as GroupVersion);
}

function paths(gv: GroupVersion): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const [resource, info] of Object.entries(RESOURCES)) {
    const d = [...DEFINITIONS.values()].find((x) => x.gvk?.kind === info.kind && x.gvk.group === info.group);
    if (!d || gvOf(d) !== gv) continue;
    addPaths(out, gv, resource, info.namespaced, d);
  }
  // events.k8s.io serves Event over the core events storage.
  if (gv === "apis/events.k8s.io/v1") {
    const d = DEFINITIONS.get("io.k8s.api.events.v1.Event");
    if (d) addPaths(out, gv, "events", true, d);
  }
  return out;
}

function addPaths(out: Record<string, Schema>, gv: GroupVersion, resource: string, namespaced: boolean, d: Definition): void {
  const base = `/${gv}${namespaced ? "/namespaces/{namespace}" : ""}/${resource}`;
  const gvk = d.gvk;
  const body = { content: { "application/json": { schema: { $ref: SCHEMA_PREFIX + d.name } } } };
  const ok = { "200": { description: "OK", ...body } };
  const op = (verb: string, id: string, extra: Schema = {}): Schema => ({
    description: `${verb} ${d.gvk?.kind ?? ""}`, operationId: `${id}${d.gvk?.kind ?? ""}`, responses: ok,
    "x-kubernetes-action": verb, "x-kubernetes-group-version-kind": gvk, ...extra,
  });
  const patchBody = {
    content: Object.fromEntries(["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json"]
      .map((ct) => [ct, { schema: { type: "object" } }])),
  };
  out[base] = {
    get: op("list", "list"),
    post: op("post", "create", { parameters: WRITE_PARAMS, requestBody: body }),
    parameters: namespaced ? [{ name: "namespace", in: "path", required: true, schema: { type: "string" } }] : [],
  };
  out[`${base}/{name}`] = {
    get: op("get", "read"),
    put: op("put", "replace", { parameters: WRITE_PARAMS, requestBody: body }),
    patch: op("patch", "patch", { parameters: [...WRITE_PARAMS, QUERY("force", "Take over fields other managers own (apply only).")], requestBody: patchBody }),
    delete: op("delete", "delete"),
    parameters: [
      { name: "name", in: "path", required: true, schema: { type: "string" } },
      ...(namespaced ? [{ name: "namespace", in: "path", required: true, schema: { type: "string" } }] : []),
    ],
  };
}

/** The OpenAPI v3 document of one group-version. */
export function openApiV3Document(groupVersion: GroupVersion): object {
  const roots = [...DEFINITIONS.values()].filter((d) => d.gvk && gvOf(d) === groupVersion).map((d) => d.name);
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes", version: "v1.32.4" },
    paths: paths(groupVersion),
    components: { schemas: schemasFor(roots) },
  };
}

/** The /openapi/v3 index: each group-version's document URL, with its hash as cache key. */
export function openApiV3Index(hashes: Partial<Record<string, string>>): { paths: Record<string, { serverRelativeURL: string }> } {
  const out: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of GROUP_VERSIONS) {
    const hash = hashes[gv];
    out[gv] = { serverRelativeURL: `/openapi/v3/${gv}${hash ? `?hash=${hash}` : ""}` };
  }
  return { paths: out };
}

export interface OpenApiV3 {
  /** The /openapi/v3 reply. */
  index: { paths: Record<string, { serverRelativeURL: string }> };
  /** Each group-version's document, serialised, with its hash (the `hash` query of its URL and its ETag). */
  documents: Map<GroupVersion, { json: string; hash: string }>;
}

/** Everything /openapi/v3 serves, built once: the API server caches the result. */
export function buildOpenApiV3(): OpenApiV3 {
  const documents = new Map<GroupVersion, { json: string; hash: string }>();
  const hashes: Record<string, string> = {};
  for (const gv of GROUP_VERSIONS) {
    const json = JSON.stringify(openApiV3Document(gv));
    const hash = createHash("sha512").update(json).digest("hex").toUpperCase();
    documents.set(gv, { json, hash });
    hashes[gv] = hash;
  }
  return { index: openApiV3Index(hashes), documents };
}

/** The hash naming one document's version in the index (upper-case hex SHA-512, as kube-apiserver's). */
export function openApiHash(doc: object): string {
  return createHash("sha512").update(JSON.stringify(doc)).digest("hex").toUpperCase();
}
