/**
 * managedFields: which manager owns which fields (apiserver's fieldmanager over
 * structured-merge-diff). Update gives the writer every field it changed and takes those
 * from the others; server-side Apply makes the applied configuration the manager's set,
 * refuses to change fields another manager owns (409 with the conflicts) unless forced, and
 * removes fields the manager stopped applying when nobody else owns them.
 */
import type { KubeObject, ManagedFieldsEntry, Status, StatusCause } from "../../api/index.js";
import { AbortedError } from "../../errdefs/index.js";
import { definitionOfKind, type FieldType } from "../openapi/index.js";
import { FieldSet, pathString, type FieldPath } from "./fieldset.js";
import { compare, merge, removePaths, toFieldSet, zeroObject } from "./typed.js";

/** Fields no manager owns: identity and bookkeeping the server sets. */
const STRIPPED: FieldPath[] = [
  ["f:apiVersion"], ["f:kind"],
  ...["name", "namespace", "creationTimestamp", "selfLink", "uid", "generation", "managedFields", "resourceVersion"].map((f) => ["f:metadata", `f:${f}`]),
];
const WITH_STATUS = new Set(["Pod", "Node", "Namespace"]);

/** The fields a write through `subresource` does not set (the strategies' reset fields). */
function ignoredFields(kind: string, subresource: string | undefined): FieldPath[] {
  if (!WITH_STATUS.has(kind)) return STRIPPED;
  if (subresource === "status") return [...STRIPPED, ["f:spec"], ["f:metadata", "f:deletionTimestamp"], ["f:metadata", "f:ownerReferences"]];
  return [...STRIPPED, ["f:status"]];
}

interface Manager {
  manager: string; operation: "Apply" | "Update"; apiVersion: string; time?: string; subresource?: string; set: FieldSet;
  /** The stored entry's set and fieldsV1: while `set` is still that set, the write keeps its fieldsV1 as it is. */
  stored?: { set: FieldSet; fieldsV1: Record<string, unknown> };
}

const managerId = (m: { manager: string; operation: string; subresource?: string }): string => `${m.manager}\u0000${m.operation}\u0000${m.subresource ?? ""}`;

/** `stored`: the entries are the live object's (written by encode below), not a client's. */
function decode(entries: ManagedFieldsEntry[] | undefined, stored = false): Manager[] {
  return (entries ?? []).filter((e) => e.manager !== undefined && e.operation !== undefined).map((e) => {
    const set = FieldSet.fromFieldsV1(e.fieldsV1 ?? {});
    return {
      manager: e.manager as string, operation: e.operation as "Apply" | "Update", apiVersion: e.apiVersion ?? "v1",
      ...(e.time ? { time: e.time } : {}), ...(e.subresource ? { subresource: e.subresource } : {}),
      set, ...(stored && e.fieldsV1 ? { stored: { set, fieldsV1: e.fieldsV1 as Record<string, unknown> } } : {}),
    };
  });
}

function encode(managers: Manager[]): ManagedFieldsEntry[] {
  const secs = (m: Manager): number => (m.time ? Math.floor(Date.parse(m.time) / 1000) : 0);
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return managers
    .filter((m) => m.set.size > 0)
    .sort((a, b) => cmp(a.operation, b.operation) || secs(a) - secs(b) || cmp(a.manager, b.manager) || cmp(a.apiVersion, b.apiVersion) || cmp(a.subresource ?? "", b.subresource ?? ""))
    .map((m) => ({
      manager: m.manager, operation: m.operation, apiVersion: m.apiVersion, ...(m.time ? { time: m.time } : {}),
      fieldsType: "FieldsV1" as const, fieldsV1: m.stored?.set === m.set ? m.stored.fieldsV1 : m.set.toFieldsV1(),
      ...(m.subresource ? { subresource: m.subresource } : {}),
    }));
}

function rootType(obj: KubeObject | undefined, kind: string | undefined): { type: FieldType | undefined; kind: string } {
  const k = kind ?? obj?.kind ?? "";
  const apiVersion = obj?.apiVersion ?? "v1";
  const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
  const d = definitionOfKind(k, group);
  return { type: d ? (`#${d.name}` as FieldType) : undefined, kind: k };
}

const versionOf = (obj: KubeObject | undefined): string => obj?.apiVersion ?? "v1";

/** A manager as conflicts print it: `"kubectl-client-side-apply" using v1` for Update managers. */
function printManager(m: Manager): string {
  let s = JSON.stringify(m.manager);
  if (m.subresource) s += ` with subresource ${JSON.stringify(m.subresource)}`;
  if (m.operation === "Update") s += ` using ${m.apiVersion}`;
  return s;
}

/** 409 Conflict of a server-side apply; `status` is the Status to send, with one FieldManagerConflict cause per field. */
export class ApplyConflictError extends AbortedError {
  readonly status: Status;
  /** The FieldManagerConflict causes, also in `status.details.causes`. */
  readonly causes: StatusCause[];
  constructor(conflicts: { manager: Manager; path: FieldPath }[]) {
    const message = conflictMessage(conflicts);
    super(message);
    this.status = {
      kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: "Conflict", code: 409,
      details: { causes: conflicts.map((c) => ({ reason: "FieldManagerConflict", message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) })) },
    };
    this.causes = this.status.details?.causes ?? [];
  }
}

function conflictMessage(conflicts: { manager: Manager; path: FieldPath }[]): string {
  if (conflicts.length === 1) {
    const c = conflicts[0] as { manager: Manager; path: FieldPath };
    return `Apply failed with 1 conflict: conflict with ${printManager(c.manager)}: ${pathString(c.path)}`;
  }
  const byManager = new Map<string, { m: Manager; paths: FieldPath[] }>();
  for (const c of conflicts) {
    const key = printManager(c.manager);
    const e = byManager.get(key) ?? { m: c.manager, paths: [] };
    e.paths.push(c.path);
    byManager.set(key, e);
  }
  const lines: string[] = [];
  for (const key of [...byManager.keys()].sort()) {
    lines.push(`conflicts with ${key}:`);
    for (const p of byManager.get(key)?.paths ?? []) lines.push(`- ${pathString(p)}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join("\n")}`;
}

/**
 * The step both operations share (merge.Updater.update): fields that changed from `live` to
 * `next` leave the other managers, or are conflicts when `force` is false.
 */
function takeChanged(managers: Manager[], self: string, live: unknown, next: unknown, type: FieldType | undefined, ignored: FieldPath[], force: boolean) {
  const c = compare(live, next, type);
  const changed = c.modified.union(c.added).withoutPrefixes(ignored);
  const removed = c.removed.withoutPrefixes(ignored);
  const conflicts: { manager: Manager; path: FieldPath }[] = [];
  for (const m of managers) {
    if (managerId(m) === self) continue;
    for (const p of m.set.intersection(changed).paths()) conflicts.push({ manager: m, path: p });
  }
  if (!force && conflicts.length > 0) throw new ApplyConflictError(conflicts);
  for (const m of managers) {
    if (managerId(m) === self) continue;
    const rest = m.set.difference(changed).difference(removed);
    // only ever smaller: the same size is the same set, which keeps its encoded form
    if (rest.size !== m.set.size) m.set = rest;
  }
  return { changed, removed, same: c.added.size === 0 && c.modified.size === 0 && c.removed.size === 0 };
}

/**
 * Records an Update by `manager` (a create when `old` is undefined) in `next.metadata.managedFields`.
 * `now` is the RFC 3339 time of the write.
 */
export function updateManagedFields(old: KubeObject | undefined, next: KubeObject, manager: string, operation: "Update", subresource: string | undefined, now: string): void {
  const { type, kind } = rootType(next, next.kind ?? old?.kind);
  const ignored = ignoredFields(kind, subresource);
  // A server-side apply already recorded this write (its Apply entry is new or changed): nothing to add.
  const sent = next.metadata.managedFields;
  const before = (e: ManagedFieldsEntry): ManagedFieldsEntry | undefined =>
    old?.metadata.managedFields?.find((o) => o.manager === e.manager && o.operation === e.operation && (o.subresource ?? "") === (e.subresource ?? ""));
  if (sent?.some((e) => e.operation === "Apply" && e.manager === manager && JSON.stringify(e) !== JSON.stringify(before(e)))) return;
  // As upstream: managedFields the client sent win over the live ones (so they can be edited or
  // reset with `[{}]`), except through a subresource, and when the client sent none.
  const reset = sent?.length === 1 && Object.keys(sent[0] ?? {}).length === 0;
  const fromClient = !subresource && !reset && sent !== undefined && decode(sent).length > 0;
  const managers = reset && !subresource ? [] : fromClient ? decode(sent) : decode(old?.metadata.managedFields, true);
  const self = managerId({ manager, operation, ...(subresource ? { subresource } : {}) });
  // Top-level fields the write cannot set (a status write's spec, an update's status) are left out
  // of the comparison: their changes would be dropped with the ignored paths anyway.
  const skipped = ignored.filter((p) => p.length === 1).map((p) => (p[0] ?? "").slice(2));
  const value = (o: KubeObject): unknown => {
    // (built without the skipped keys rather than deleting them: a delete slows the copy down)
    const c: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (!skipped.includes(k)) c[k] = k === "metadata" ? { ...o.metadata, managedFields: undefined } : v;
    }
    return JSON.parse(JSON.stringify(c));
  };
  const { changed, removed, same } = takeChanged(managers, self, old ? value(old) : zeroObject(type), value(next), type, ignored, true);
  if (!same) {
    let mine = managers.find((m) => managerId(m) === self);
    if (!mine) {
      mine = { manager, operation, apiVersion: versionOf(next), set: new FieldSet(), ...(subresource ? { subresource } : {}) };
      managers.push(mine);
    }
    const set = mine.set.difference(removed).union(changed).withoutPrefixes(ignored);
    // the same fields with new values (most status writes): the stored encoding still holds
    mine.set = mine.stored?.set.equals(set) ? mine.stored.set : set;
    mine.apiVersion = versionOf(next);
    // Any change to the object stamps the writer's entry, as upstream does.
    mine.time = now;
  }
  const encoded = encode(managers);
  if (encoded.length > 0) next.metadata.managedFields = encoded;
  else delete next.metadata.managedFields;
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  /** RFC 3339 time of the write. */
  now: string;
  /** The kind applied (`Pod`); its group comes from the object's apiVersion. */
  kind: string;
  subresource?: string;
}

/** A kept list item keeps the fields that key it (`name` of `k:{"name":"a"}`). */
function isKeyOfKeptItem(p: FieldPath, owners: FieldSet): boolean {
  const last = p[p.length - 1] ?? "";
  const item = p[p.length - 2] ?? "";
  if (!last.startsWith("f:") || !item.startsWith("k:")) return false;
  const keys = JSON.parse(item.slice(2)) as Record<string, unknown>;
  return last.slice(2) in keys && owners.hasPrefix(p.slice(0, -1));
}

/**
 * Server-side apply of `applied` (the configuration, as the client sent it) to `live`
 * (undefined: the object is created). Returns the object to store, with managedFields;
 * the caller still defaults and validates it. Throws ApplyConflictError.
 */
export function serverSideApply(live: KubeObject | undefined, applied: KubeObject, opts: ApplyOptions): KubeObject {
  const { type, kind } = rootType(applied, opts.kind);
  const ignored = ignoredFields(kind, opts.subresource);
  const managers = decode(live?.metadata.managedFields, true);
  const strip = (o: KubeObject | undefined): unknown => (o ? JSON.parse(JSON.stringify({ ...o, metadata: { ...o.metadata, managedFields: undefined } })) : zeroObject(type));
  const liveValue = strip(live);
  const config = strip(applied);
  if (live && managers.length === 0) {
    // An object nobody tracked yet: what it holds belongs to "before-first-apply".
    const set = toFieldSet(liveValue, type).withoutPrefixes(ignored);
    if (set.size > 0) managers.push({ manager: "before-first-apply", operation: "Update", apiVersion: versionOf(live), ...(live.metadata.creationTimestamp ? { time: live.metadata.creationTimestamp } : {}), set });
  }
  const selfKey = { manager: opts.manager, operation: "Apply" as const, ...(opts.subresource ? { subresource: opts.subresource } : {}) };
  const self = managerId(selfKey);
  const previous = managers.find((m) => managerId(m) === self);
  const lastSet = previous?.set ?? new FieldSet();
  const configSet = toFieldSet(config, type).withoutPrefixes(ignored);
  const merged = merge(liveValue, config, type) as KubeObject;
  // Prune what this manager applied before and no longer does, unless someone else owns it.
  const owners = managers.filter((m) => managerId(m) !== self).reduce((acc, m) => acc.union(m.set), configSet);
  const dropped = lastSet.difference(configSet).paths().filter((p) => !owners.hasPrefix(p) && !isKeyOfKeptItem(p, owners));
  removePaths(merged, type, dropped);
  const { same } = takeChanged(managers, self, liveValue, merged, type, ignored, opts.force);
  // A no-op apply (same object, same fields) changes nothing, not even the entry's time.
  if (live && same && previous && JSON.stringify(previous.set.toFieldsV1()) === JSON.stringify(configSet.toFieldsV1())) return structuredClone(live);
  const mine: Manager = { ...selfKey, apiVersion: versionOf(applied), time: opts.now, set: configSet };
  const rest = managers.filter((m) => managerId(m) !== self);
  merged.metadata ??= {};
  const encoded = encode([...rest, mine]);
  if (encoded.length > 0) merged.metadata.managedFields = encoded;
  else delete merged.metadata.managedFields;
  return merged;
}
