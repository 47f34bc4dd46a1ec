/**
 * JSON patch (RFC 6902), with the error texts of the json-patch library kube-apiserver uses
 * (evanphx/json-patch v4), so a failed `kubectl patch --type=json` reads the same.
 */
import { PatchError } from "./errors.js";

type Container = Record<string, unknown> | unknown[];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function parsePointer(path: string): string[] {
  if (path === "") return [];
  return path.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** The container holding the pointer's last segment, and that segment; undefined when a step is missing. */
function locate(doc: unknown, path: string): { parent: Container; key: string } | undefined {
  const segs = parsePointer(path);
  const key = segs.pop();
  if (key === undefined) return undefined;
  let cur: unknown = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) {
      const i = /^(0|[1-9]\d*)$/.test(s) ? Number(s) : NaN;
      if (!(i >= 0 && i < cur.length)) return undefined;
      cur = cur[i];
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, s)) return undefined;
      cur = cur[s];
    } else return undefined;
  }
  if (!Array.isArray(cur) && !isObject(cur)) return undefined;
  return { parent: cur, key };
}

function arrayIndex(arr: unknown[], key: string, forAdd: boolean): number {
  if (forAdd && key === "-") return arr.length;
  const i = /^(0|[1-9]\d*)$/.test(key) ? Number(key) : NaN;
  const max = forAdd ? arr.length : arr.length - 1;
  if (!(i >= 0 && i <= max)) throw new PatchError(`Unable to access invalid index: ${Number.isNaN(i) ? key : i}: invalid index referenced`);
  return i;
}

function get(c: { parent: Container; key: string }): { found: boolean; value?: unknown } {
  if (Array.isArray(c.parent)) {
    const i = /^(0|[1-9]\d*)$/.test(c.key) ? Number(c.key) : NaN;
    return i >= 0 && i < c.parent.length ? { found: true, value: c.parent[i] } : { found: false };
  }
  return Object.hasOwn(c.parent, c.key) ? { found: true, value: c.parent[c.key] } : { found: false };
}

function add(c: { parent: Container; key: string }, value: unknown): void {
  if (Array.isArray(c.parent)) c.parent.splice(arrayIndex(c.parent, c.key, true), 0, value);
  else c.parent[c.key] = value;
}

function remove(c: { parent: Container; key: string }): unknown {
  if (Array.isArray(c.parent)) return c.parent.splice(arrayIndex(c.parent, c.key, false), 1)[0];
  if (!Object.hasOwn(c.parent, c.key)) throw new PatchError(`Unable to remove nonexistent key: ${c.key}: missing value`);
  const v = c.parent[c.key];
  delete c.parent[c.key];
  return v;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

/** Applies `ops` to a copy of `original`. Throws PatchError: 400 when `ops` is not a patch, 422 when an operation fails. */
export function jsonPatch(original: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) {
    const what = isObject(ops) ? "object" : typeof ops === "string" ? "string" : typeof ops === "number" ? "number" : typeof ops === "boolean" ? "bool" : "null";
    throw new PatchError(`json: cannot unmarshal ${what} into Go value of type jsonpatch.Patch`, 400);
  }
  let doc: unknown = structuredClone(original);
  for (const raw of ops) {
    if (!isObject(raw)) throw new PatchError("json: cannot unmarshal into Go value of type jsonpatch.Operation", 400);
    const op = typeof raw.op === "string" ? raw.op : "unknown";
    const path = raw.path;
    if (op !== "add" && op !== "remove" && op !== "replace" && op !== "move" && op !== "copy" && op !== "test") {
      throw new PatchError(`Unexpected kind: ${op}`);
    }
    if (typeof path !== "string") throw new PatchError(`${op} operation failed to decode path: missing value`);
    if (!("value" in raw) && (op === "add" || op === "replace" || op === "test")) {
      throw new PatchError(`${op} operation failed to decode value: missing value`);
    }
    const value = structuredClone(raw.value);
    if (path === "" && (op === "add" || op === "replace")) { doc = value; continue; }
    switch (op) {
      case "add": {
        const c = locate(doc, path);
        if (!c) throw new PatchError(`add operation does not apply: doc is missing path: "${path}": missing value`);
        add(c, value);
        break;
      }
      case "remove": {
        const c = locate(doc, path);
        if (!c) throw new PatchError(`remove operation does not apply: doc is missing path: "${path}": missing value`);
        remove(c);
        break;
      }
      case "replace": {
        const c = locate(doc, path);
        if (!c) throw new PatchError(`replace operation does not apply: doc is missing path: ${path}: missing value`);
        if (!get(c).found) throw new PatchError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
        if (Array.isArray(c.parent)) c.parent[arrayIndex(c.parent, c.key, false)] = value;
        else c.parent[c.key] = value;
        break;
      }
      case "move":
      case "copy": {
        const from = raw.from;
        if (typeof from !== "string") throw new PatchError(`${op} operation failed to decode from: missing value`);
        const src = locate(doc, from);
        if (!src || !get(src).found) throw new PatchError(`${op} operation does not apply: doc is missing from path: ${from}: missing value`);
        const v = op === "move" ? remove(src) : structuredClone(get(src).value);
        const dst = locate(doc, path);
        if (!dst) throw new PatchError(`${op} operation does not apply: doc is missing destination path: ${path}: missing value`);
        add(dst, v);
        break;
      }
      case "test": {
        const got = path === "" ? { found: true, value: doc } : (() => {
          const c = locate(doc, path);
          if (!c) throw new PatchError(`test operation does not apply: is missing path: ${path}: missing value`);
          return get(c);
        })();
        if (!got.found ? value !== null : !deepEqual(got.value, value)) throw new PatchError(`testing value ${path} failed: test failed`);
        break;
      }
    }
  }
  return doc;
}
