/**
 * Strategic merge patch (apimachinery strategicpatch), what `kubectl apply` and `kubectl
 * patch` send by default. Lists merge by their patchMergeKey where the schema says
 * `patchStrategy: merge` (containers by name, ports by containerPort, volumeMounts by
 * mountPath …) and are replaced otherwise. Directives: `$patch: replace|delete|merge` in maps
 * and list items, `$retainKeys`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`;
 * `null` deletes. No directive is ever left in the result.
 */
import { DEFINITIONS, definitionOf, definitionOfKind, isList, isMap, type Definition, type FieldType } from "../openapi/index.js";
import { PatchError } from "./errors.js";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

const SET_ORDER = "$setElementOrder/";
const DELETE_PRIMITIVE = "$deleteFromPrimitiveList/";

/** The schema a map value is read against: a struct's definition, a map's value type, or nothing known. */
type MapSchema = { def: Definition } | { values: FieldType } | undefined;

function fieldType(schema: MapSchema, key: string): FieldType | undefined {
  if (!schema) return undefined;
  if ("def" in schema) return schema.def.fields[key]?.type;
  return schema.values;
}

function mapSchemaOf(t: FieldType | undefined): MapSchema {
  if (t === undefined) return undefined;
  const d = definitionOf(t);
  if (d) return { def: d };
  if (isMap(t)) return { values: t.map };
  return undefined;
}

function goMap(v: unknown): string {
  if (!isObject(v)) return String(v);
  return `map[${Object.keys(v).sort().map((k) => `${k}:${isObject(v[k]) ? goMap(v[k]) : String(v[k])}`).join(" ")}]`;
}

function mergeMap(original: Obj, patch: Obj, schema: MapSchema): Obj | undefined {
  const directive = patch.$patch;
  if (directive !== undefined) {
    if (directive === "delete") return undefined;
    if (directive === "replace") {
      const rest = { ...patch };
      delete rest.$patch;
      return mergeMap({}, rest, schema);
    }
    if (directive !== "merge") throw new PatchError(`unknown patch type: ${String(directive)} in map: ${goMap(patch)}`, 400);
  }
  const out: Obj = { ...original };
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw new PatchError("invalid patch: $retainKeys directive must be a list of strings", 400);
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
    for (const k of Object.keys(patch)) {
      if (!k.startsWith("$") && !retain.includes(k)) throw new PatchError("patch content doesn't match retainKeys list", 422);
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue;
    const t = fieldType(schema, k);
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (isObject(v)) {
      const merged = mergeMap(isObject(cur) ? cur : {}, v, mapSchemaOf(t));
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) {
      out[k] = mergeList(Array.isArray(cur) ? cur : [], v, t);
    } else {
      out[k] = v;
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const list = k.slice(DELETE_PRIMITIVE.length);
      if (!Array.isArray(v)) throw new PatchError("invalid patch: the $deleteFromPrimitiveList directive must be a list of primitives", 400);
      const cur = out[list];
      if (Array.isArray(cur)) out[list] = cur.filter((x) => !v.some((d) => d === x));
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(SET_ORDER)) {
      const list = k.slice(SET_ORDER.length);
      if (!Array.isArray(v)) throw new PatchError("invalid patch: the $setElementOrder directive must be a list", 400);
      const cur = out[list];
      if (Array.isArray(cur)) out[list] = orderList(cur, original[list], v, mergeKeyOf(fieldType(schema, list)));
    } else if (k.startsWith("$") && k !== "$patch" && k !== "$retainKeys" && !k.startsWith(DELETE_PRIMITIVE)) {
      throw new PatchError(`unknown directive ${k} in patch`, 400);
    }
  }
  return out;
}

function mergeKeyOf(t: FieldType | undefined): string | undefined {
  return t !== undefined && isList(t) && t.strategy?.includes("merge") ? t.mergeKey : undefined;
}

function keyValue(item: unknown, mergeKey: string | undefined): unknown {
  return mergeKey !== undefined && isObject(item) ? item[mergeKey] : item;
}

function sameKey(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === "number" && typeof b === "string" && String(a) === b) || (typeof b === "number" && typeof a === "string" && String(b) === a);
}

function mergeList(original: unknown[], patch: unknown[], t: FieldType | undefined): unknown[] {
  const list = t !== undefined && isList(t) ? t : undefined;
  const itemSchema = mapSchemaOf(list?.list);
  const strip = (items: unknown[]): unknown[] =>
    items.flatMap((x) => {
      if (!isObject(x)) return [x];
      const m = mergeMap({}, x, itemSchema);
      return m === undefined ? [] : [m];
    });
  // `{"$patch": "replace"}` as an item: the rest of the patch list is the new list.
  const replaceMarker = patch.findIndex((x) => isObject(x) && x.$patch === "replace" && Object.keys(x).length === 1);
  if (replaceMarker >= 0) return strip(patch.filter((_, i) => i !== replaceMarker));
  const merge = list?.strategy?.includes("merge") ?? false;
  if (!merge) return strip(patch);
  const mergeKey = list?.mergeKey;
  if (mergeKey === undefined) {
    // A primitive list with the merge strategy (finalizers): a union in order.
    const out = [...original];
    for (const x of patch) if (!out.some((y) => y === x)) out.push(x);
    return out;
  }
  const out = [...original];
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`unable to merge a non-map item into a list keyed by ${mergeKey}`, 400);
    const key = item[mergeKey];
    if (key === undefined) throw new PatchError(`map: ${goMap(item)} does not contain declared merge key: ${mergeKey}`, 422);
    const at = out.findIndex((x) => isObject(x) && sameKey(x[mergeKey], key));
    if (item.$patch === "delete") {
      if (at >= 0) out.splice(at, 1);
      for (let i = out.length - 1; i >= 0; i--) if (isObject(out[i]) && sameKey((out[i] as Obj)[mergeKey], key)) out.splice(i, 1);
      continue;
    }
    if (at >= 0) {
      const merged = mergeMap(out[at] as Obj, item, itemSchema);
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else {
      const fresh = mergeMap({}, item, itemSchema);
      if (fresh !== undefined) out.push(fresh);
    }
  }
  return out;
}

/**
 * `$setElementOrder`: the items it names come in its order; items only the server has keep
 * their place relative to the live list, each put before the first ordered item that stood
 * after it there (strategicpatch's mergeSortedSlice).
 */
function orderList(merged: unknown[], live: unknown, order: unknown[], mergeKey: string | undefined): unknown[] {
  const liveList = Array.isArray(live) ? live : [];
  const liveIndex = (item: unknown): number => liveList.findIndex((x) => sameKey(keyValue(x, mergeKey), keyValue(item, mergeKey)));
  const orderIndex = (item: unknown): number => order.findIndex((o) => sameKey(keyValue(o, mergeKey), keyValue(item, mergeKey)));
  const ordered = merged.filter((x) => orderIndex(x) >= 0).sort((a, b) => orderIndex(a) - orderIndex(b));
  const serverOnly = merged.filter((x) => orderIndex(x) < 0);
  const out: unknown[] = [];
  let i = 0;
  for (const s of serverOnly) {
    const si = liveIndex(s);
    while (i < ordered.length && !(liveIndex(ordered[i]) > si)) out.push(ordered[i++]);
    out.push(s);
  }
  while (i < ordered.length) out.push(ordered[i++]);
  return out;
}

/**
 * Applies a strategic merge patch to `original` (not changed) for an object of `kind`
 * (`Pod`, `Node`, …; `group` for the non-core kinds). Throws PatchError.
 */
export function strategicMergePatch(original: unknown, patch: unknown, kind: string, group = ""): unknown {
  if (!isObject(patch)) throw new PatchError(`json: cannot unmarshal ${Array.isArray(patch) ? "array" : typeof patch} into Go value of type map[string]interface {}`, 400);
  // Lease and events.k8s.io Event arrive without their group from callers that only know the kind.
  const def = definitionOfKind(kind, group) ?? [...DEFINITIONS.values()].find((d) => d.gvk?.kind === kind);
  const result = mergeMap(isObject(original) ? structuredClone(original) : {}, structuredClone(patch), def ? { def } : undefined);
  return result ?? {};
}
