/**
 * Objects read through the schema the way structured-merge-diff reads them: the set of fields
 * an object sets, the comparison of two objects, the merge of an applied configuration into
 * the live object, and the removal of fields.
 */
import { definitionOf, isList, isMap, type FieldType, type ListType } from "../openapi/index.js";
import { FieldSet, type FieldPath } from "./fieldset.js";

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** What a value is, for walking: a struct or map (granular), a list by its kind, or a leaf. */
type Shape =
  | { kind: "struct"; field: (k: string) => FieldType | undefined; declared: (k: string) => boolean }
  | { kind: "map"; values: FieldType }
  | { kind: "list"; t: ListType }
  | { kind: "leaf" };

export function shapeOf(t: FieldType | undefined): Shape {
  if (t === undefined) return { kind: "leaf" };
  const d = definitionOf(t);
  if (d) return { kind: "struct", field: (k) => d.fields[k]?.type, declared: (k) => k in d.fields };
  if (isMap(t)) return { kind: "map", values: t.map };
  if (isList(t) && (t.listType === "map" || t.listType === "set")) return { kind: "list", t };
  return { kind: "leaf" };
}

const KEY_DEFAULTS: Record<string, unknown> = { protocol: "TCP" };

/** The path element of a list item: `k:{...}` for keyed lists, `v:<json>` for sets. */
export function itemElement(t: ListType, item: unknown, index: number): string {
  if (t.listType === "set") return `v:${JSON.stringify(item)}`;
  if (!isObject(item) || !t.keys) return `i:${index}`;
  const key: Obj = {};
  for (const k of [...t.keys].sort()) key[k] = item[k] ?? KEY_DEFAULTS[k];
  return `k:${JSON.stringify(key)}`;
}

function mapFieldType(shape: Shape, k: string): FieldType | undefined {
  return shape.kind === "struct" ? shape.field(k) : shape.kind === "map" ? shape.values : undefined;
}

/** The fields `value` sets (typed.ToFieldSet): leaves, list items, empty maps, and the keys of granular maps. */
export function toFieldSet(value: unknown, t: FieldType | undefined): FieldSet {
  const out = new FieldSet();
  const walk = (v: unknown, type: FieldType | undefined, path: FieldPath): void => {
    const shape = shapeOf(type);
    if (shape.kind === "leaf") {
      if (path.length > 0) out.insert(path);
      return;
    }
    if (shape.kind === "list") {
      if (!Array.isArray(v)) { out.insert(path); return; }
      v.forEach((item, i) => {
        const p = [...path, itemElement(shape.t, item, i)];
        walk(item, shape.t.listType === "set" ? undefined : shape.t.list, p);
        out.insert(p);
      });
      return;
    }
    if (!isObject(v)) { if (path.length > 0) out.insert(path); return; }
    for (const [k, x] of Object.entries(v)) {
      const p = [...path, `f:${k}`];
      walk(x, mapFieldType(shape, k), p);
      const declared = shape.kind === "struct" && shape.declared(k);
      if (x === null || (isObject(x) && Object.keys(x).length === 0) || !declared) out.insert(p);
    }
  };
  walk(value, t, []);
  return out;
}

export interface Comparison { added: FieldSet; modified: FieldSet; removed: FieldSet }

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** typed.Compare: what changed from `lhs` to `rhs`. A map that appears or goes counts itself, then its fields. */
export function compare(lhs: unknown, rhs: unknown, t: FieldType | undefined): Comparison {
  const c: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  const leaf = (a: unknown, b: unknown, path: FieldPath): void => {
    if (path.length === 0) return;
    if (a === undefined && b !== undefined) c.added.insert(path);
    else if (a !== undefined && b === undefined) c.removed.insert(path);
    else if (a !== undefined && !equal(a, b)) c.modified.insert(path);
  };
  const walk = (a: unknown, b: unknown, type: FieldType | undefined, path: FieldPath): void => {
    const shape = shapeOf(type);
    if (shape.kind === "leaf") { leaf(a, b, path); return; }
    if (shape.kind === "list") {
      if ((a !== undefined && a !== null && !Array.isArray(a)) || (b !== undefined && b !== null && !Array.isArray(b))) { leaf(a, b, path); return; }
      if ((!Array.isArray(a) || a.length === 0) && (!Array.isArray(b) || b.length === 0)) { leaf(a, b, path); return; }
      const items = new Map<string, [unknown, unknown]>();
      (Array.isArray(a) ? a : []).forEach((x, i) => items.set(itemElement(shape.t, x, i), [x, undefined]));
      (Array.isArray(b) ? b : []).forEach((x, i) => {
        const pe = itemElement(shape.t, x, i);
        items.set(pe, [items.get(pe)?.[0], x]);
      });
      // A list that appears or goes counts itself (a list that was null does not appear).
      if (path.length > 0 && a === undefined && Array.isArray(b) && b.length > 0) c.added.insert(path);
      else if (path.length > 0 && b === undefined && Array.isArray(a) && a.length > 0) c.removed.insert(path);
      for (const [pe, [x, y]] of items) {
        const p = [...path, pe];
        if (shape.t.listType === "set") { leaf(x, y, p); continue; }
        if (x === undefined) c.added.insert(p);
        else if (y === undefined) c.removed.insert(p);
        walk(x, y, shape.t.list, p);
      }
      return;
    }
    const am = isObject(a) ? a : undefined;
    const bm = isObject(b) ? b : undefined;
    if ((a !== undefined && a !== null && !am) || (b !== undefined && b !== null && !bm)) { leaf(a, b, path); return; }
    const aEmpty = !am || Object.keys(am).length === 0;
    const bEmpty = !bm || Object.keys(bm).length === 0;
    if (aEmpty && bEmpty) { leaf(a, b, path); return; }
    if (path.length > 0) {
      if (a === undefined && b !== undefined) c.added.insert(path);
      else if (a !== undefined && b === undefined) c.removed.insert(path);
    }
    const keys = new Set([...Object.keys(am ?? {}), ...Object.keys(bm ?? {})]);
    for (const k of keys) walk(am?.[k], bm?.[k], mapFieldType(shape, k), [...path, `f:${k}`]);
  };
  walk(lhs, rhs, t, []);
  return c;
}

/** typed.Merge: `rhs` (the applied configuration) over `lhs` (the live object). */
export function merge(lhs: unknown, rhs: unknown, t: FieldType | undefined): unknown {
  if (rhs === undefined) return structuredClone(lhs);
  const shape = shapeOf(t);
  if (shape.kind === "leaf") return structuredClone(rhs);
  if (shape.kind === "list") {
    if (!Array.isArray(lhs) || !Array.isArray(rhs)) return structuredClone(rhs);
    const out = structuredClone(lhs) as unknown[];
    const pes = out.map((x, i) => itemElement(shape.t, x, i));
    rhs.forEach((item, i) => {
      const pe = itemElement(shape.t, item, i);
      const at = pes.indexOf(pe);
      if (at >= 0) out[at] = shape.t.listType === "set" ? item : merge(out[at], item, shape.t.list);
      else { out.push(structuredClone(item)); pes.push(pe); }
    });
    return out;
  }
  if (!isObject(lhs) || !isObject(rhs)) return structuredClone(rhs);
  const out: Obj = structuredClone(lhs);
  for (const [k, v] of Object.entries(rhs)) {
    if (v === null) delete out[k];
    else out[k] = merge(out[k], v, mapFieldType(shape, k));
  }
  return out;
}

/** Removes the fields at `paths` from `value` in place (deepest first, so items go after their fields). */
export function removePaths(value: unknown, t: FieldType | undefined, paths: FieldPath[]): void {
  for (const path of [...paths].sort((a, b) => b.length - a.length)) {
    let cur: unknown = value;
    let type = t;
    for (let i = 0; i < path.length; i++) {
      const pe = path[i] as string;
      const last = i === path.length - 1;
      const shape = shapeOf(type);
      if (pe.startsWith("f:") && isObject(cur)) {
        const k = pe.slice(2);
        if (last) { delete cur[k]; break; }
        type = mapFieldType(shape, k);
        cur = cur[k];
      } else if (shape.kind === "list" && Array.isArray(cur)) {
        const list = cur;
        const at = list.findIndex((x, j) => itemElement(shape.t, x, j) === pe);
        if (at < 0) break;
        if (last) { list.splice(at, 1); break; }
        type = shape.t.list;
        cur = list[at];
      } else break;
    }
  }
}

/**
 * What a new object of the kind looks like before the write, as Go serialises its zero value:
 * struct fields are `{}`, and a pod's containers `null` (the field has no omitempty). A create
 * is compared against it, so those fields do not count as added themselves.
 */
export function zeroObject(t: FieldType | undefined): Obj {
  const d = t === undefined ? undefined : definitionOf(t);
  const out: Obj = {};
  if (!d) return out;
  for (const [k, f] of Object.entries(d.fields)) if (definitionOf(f.type)) out[k] = {};
  if (d.name === "io.k8s.api.core.v1.Pod") out.spec = { containers: null };
  return out;
}
