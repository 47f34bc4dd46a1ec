/**
 * Sets of field paths as structured-merge-diff has them, read from and written to FieldsV1:
 * each path element is `f:<field>`, `k:<json of the item's keys>`, `v:<json value>` or `i:<n>`;
 * a path is in the set when its trie node is `{}` or carries `".": {}`.
 */

/** One path, its elements in FieldsV1 spelling. */
export type FieldPath = string[];

const SEP = "\u0000";
export const pathKey = (p: FieldPath): string => p.join(SEP);
export const keyPath = (k: string): FieldPath => (k === "" ? [] : k.split(SEP));

export class FieldSet {
  readonly #members: Set<string>;

  constructor(keys?: Iterable<string>) {
    this.#members = new Set(keys);
  }

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.insert(p);
    return s;
  }

  insert(p: FieldPath): void { this.#members.add(pathKey(p)); }
  has(p: FieldPath): boolean { return this.#members.has(pathKey(p)); }
  get size(): number { return this.#members.size; }
  /** The paths in a stable (sorted) order. */
  paths(): FieldPath[] { return [...this.#members].sort().map(keyPath); }

  // Set algebra works on the encoded keys: no sorting, no splitting.
  equals(o: FieldSet): boolean {
    if (o.#members.size !== this.#members.size) return false;
    for (const k of this.#members) if (!o.#members.has(k)) return false;
    return true;
  }
  union(o: FieldSet): FieldSet { return new FieldSet([...this.#members, ...o.#members]); }
  intersection(o: FieldSet): FieldSet { return new FieldSet([...this.#members].filter((k) => o.#members.has(k))); }
  difference(o: FieldSet): FieldSet { return new FieldSet([...this.#members].filter((k) => !o.#members.has(k))); }

  /** Leaves out every path under (or at) a path of `prefixes`. */
  withoutPrefixes(prefixes: FieldPath[]): FieldSet {
    const ps = prefixes.map(pathKey);
    return new FieldSet([...this.#members].filter((k) => !ps.some((x) => k === x || k.startsWith(x + SEP))));
  }

  /** Whether `p` or something under it is in the set. */
  hasPrefix(p: FieldPath): boolean {
    const k = pathKey(p);
    for (const m of this.#members) if (m === k || m.startsWith(k + SEP)) return true;
    return false;
  }

  toFieldsV1(): Record<string, unknown> {
    const root: Record<string, unknown> = {};
    const memberNodes: Record<string, unknown>[] = [];
    for (const p of this.paths()) {
      let node = root;
      for (const pe of p) node = (node[pe] ??= {}) as Record<string, unknown>;
      memberNodes.push(node);
    }
    for (const n of memberNodes) if (Object.keys(n).some((k) => k !== ".")) n["."] = {};
    return sortKeys(root) as Record<string, unknown>;
  }

  static fromFieldsV1(f: unknown): FieldSet {
    const s = new FieldSet();
    const walk = (node: unknown, path: FieldPath): void => {
      if (typeof node !== "object" || node === null) return;
      const keys = Object.keys(node).filter((k) => k !== ".");
      if (path.length > 0 && (keys.length === 0 || "." in node)) s.insert(path);
      for (const k of keys) walk((node as Record<string, unknown>)[k], [...path, k]);
    };
    walk(f, []);
    return s;
  }
}

function sortKeys(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  const keys = Object.keys(v).sort((a, b) => (a === "." ? -1 : b === "." ? 1 : a < b ? -1 : a > b ? 1 : 0));
  for (const k of keys) out[k] = sortKeys((v as Record<string, unknown>)[k]);
  return out;
}

/** The path as structured-merge-diff prints it in conflicts: `.spec.containers[name="a"].image`. */
export function pathString(p: FieldPath): string {
  return p.map((pe) => {
    const kind = pe.slice(0, 2);
    const rest = pe.slice(2);
    if (kind === "f:") return `.${rest}`;
    if (kind === "i:") return `[${rest}]`;
    if (kind === "v:") return `[=${rest}]`;
    if (kind === "k:") {
      const key = JSON.parse(rest) as Record<string, unknown>;
      return `[${Object.keys(key).sort().map((k) => `${k}=${JSON.stringify(key[k])}`).join(",")}]`;
    }
    return pe;
  }).join("");
}
