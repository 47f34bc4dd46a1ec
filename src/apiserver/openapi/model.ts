/**
 * The shape of every kind podyard serves, written once and read four ways: the OpenAPI v3
 * documents (`kubectl explain`, apply's validation probe), unknown-field detection for
 * fieldValidation=Strict/Warn, strategic merge patch's merge keys and strategies, and the
 * field sets of managedFields (list types and keys).
 */

/** A field's type: a scalar, another definition (`#Name`), a list or a map. */
export type FieldType =
  | "string" | "integer" | "number" | "boolean" | "time" | "microtime" | "quantity" | "intOrString" | "bytes" | "any" | "fieldsV1"
  | `#${string}`
  | ListType
  | { map: FieldType };

export interface ListType {
  list: FieldType;
  /** `atomic` (replaced whole, the default), `set` (primitives, union) or `map` (items keyed by `keys`). */
  listType?: "atomic" | "set" | "map";
  keys?: string[];
  /** Strategic merge patch: the key items merge on, and the strategy (`merge`, `merge,retainKeys`). */
  mergeKey?: string;
  strategy?: string;
}

export interface Field {
  type: FieldType;
  description: string;
}

export interface Definition {
  /** The OpenAPI component name, e.g. `io.k8s.api.core.v1.Pod`. */
  name: string;
  description: string;
  fields: Record<string, Field>;
  required?: string[];
  /** Set on the top-level kinds. */
  gvk?: { group: string; version: string; kind: string };
  /** Union-like structs whose retainKeys strategy clears the other members (Volume). */
}

export const isList = (t: FieldType): t is ListType => typeof t === "object" && "list" in t;
export const isMap = (t: FieldType): t is { map: FieldType } => typeof t === "object" && "map" in t;
