/**
 * The generic REST storage of every resource (apiserver's registry/generic Store): create, get,
 * list, guaranteed update, delete — objects as JSON under their keys, resourceVersion = the
 * storage revision, uid/creationTimestamp/generation set here, and each resource's strategy
 * (defaults, validation, status subresource, graceful pod deletion) applied around the write.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { DeleteOptions, KubeObject } from "../api/index.js";
import type { Clock } from "../clock/index.js";
import { coreToEventsV1, eventsV1ToCore } from "./events-convert.js";
import { apiVersionOf, storageKey, type ResourceInfo } from "./resources.js";
import { matches, matchesFields, selectableFields, type Selector } from "./selectors.js";
import { invalidMessage, prepareForCreate, setDefaultsObject, updateManagedFields, validateObject } from "./semantics.js";
import {
  alreadyExists, ApiError, badRequest, conflict, expired, forbidden, invalid, MODIFIED_CONFLICT, notFound,
} from "./status.js";
import {
  CompactedError, KeyExistsError, KeyNotFoundError, RevisionConflictError, type KV, type Storage,
} from "./storage/index.js";

type Obj = Record<string, unknown>;

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  subresource?: string;
  /** The server's own write (the namespace controller): deletionTimestamp may be set. */
  internal?: boolean;
}

export interface ListOptions {
  labelSelector?: Selector;
  fieldSelector?: Selector;
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

const GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789";
const MAX_UPDATE_RETRIES = 16;

/** Seconds-precision RFC 3339, as metav1.Time marshals. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

function meta(o: KubeObject): Obj {
  return (o.metadata ??= {}) as Obj;
}

/** The key a continue token names, relative to the listed prefix, and the revision it reads at. */
interface ContinueToken { v: string; rv: number; start: string }

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", rv, start } satisfies ContinueToken)).toString("base64url");
}

function decodeContinue(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as ContinueToken;
    if (t.v !== "meta.k8s.io/v1" || typeof t.rv !== "number" || typeof t.start !== "string" || t.start.includes("..")) throw new Error("bad token");
    return t;
  } catch {
    throw badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
}

export const CONTINUE_EXPIRED = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

export class Registry {
  readonly storage: Storage;
  readonly clock: Clock;
  /** Called after an object was removed from storage (the namespace finalizer listens). */
  onRemoved: ((info: ResourceInfo, obj: KubeObject) => void) | undefined;

  constructor(storage: Storage, clock: Clock) {
    this.storage = storage;
    this.clock = clock;
  }

  /** The stored object as `info`'s group/version serves it, with resourceVersion from the revision. */
  decode(info: ResourceInfo, kv: KV): KubeObject {
    let obj = JSON.parse(kv.value.toString("utf8")) as Obj;
    if (info.group === "events.k8s.io") obj = coreToEventsV1(obj);
    const o = obj as unknown as KubeObject;
    o.apiVersion = apiVersionOf(info);
    o.kind = info.kind;
    meta(o).resourceVersion = String(kv.modRevision);
    return o;
  }

  /** The object as stored: the core/v1 form for events, without resourceVersion. */
  encode(info: ResourceInfo, obj: KubeObject): string {
    let o = { ...obj, metadata: { ...obj.metadata } } as unknown as Obj;
    if (info.group === "events.k8s.io") o = eventsV1ToCore(o);
    delete (o.metadata as Obj).resourceVersion;
    if (info.group !== "events.k8s.io") o.apiVersion = apiVersionOf(info);
    o.kind = info.kind;
    return JSON.stringify(o);
  }

  #now(): string {
    return rfc3339(this.clock.now());
  }

  async getKV(info: ResourceInfo, ns: string | undefined, name: string): Promise<{ obj: KubeObject; kv: KV }> {
    const kv = await this.storage.get(storageKey(info, ns, name));
    if (!kv) throw notFound(info.resource, name, info.group);
    return { obj: this.decode(info, kv), kv };
  }

  async get(info: ResourceInfo, ns: string | undefined, name: string): Promise<KubeObject> {
    return (await this.getKV(info, ns, name)).obj;
  }

  #selected(info: ResourceInfo, obj: KubeObject, opts: ListOptions): boolean {
    if (opts.labelSelector?.length && !matches(opts.labelSelector, obj.metadata.labels ?? {})) return false;
    if (opts.fieldSelector?.length && !matchesFields(opts.fieldSelector, selectableFields(info.resource, info.group, obj as unknown as Obj))) return false;
    return true;
  }

  /** Whether an object passes the list options' selectors (watch filtering uses it too). */
  selected(info: ResourceInfo, obj: KubeObject, opts: ListOptions): boolean {
    return this.#selected(info, obj, opts);
  }

  async list(info: ResourceInfo, ns: string | undefined, opts: ListOptions): Promise<ListResult> {
    const prefix = storageKey(info, ns);
    let revision: number | undefined;
    let startKey: string | undefined;
    if (opts.continueToken) {
      const t = decodeContinue(opts.continueToken);
      revision = t.rv;
      startKey = prefix + t.start;
      if (revision < this.storage.compactedRevision()) throw expired(CONTINUE_EXPIRED);
    } else if (opts.resourceVersion && opts.resourceVersion !== "0") {
      const rv = Number(opts.resourceVersion);
      if (!Number.isInteger(rv) || rv < 0) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(opts.resourceVersion)}: strconv.ParseUint: parsing ${JSON.stringify(opts.resourceVersion)}: invalid syntax`);
      const cur = this.storage.currentRevision();
      if (rv > cur) {
        throw new ApiError(504, "Timeout", `Too large resource version: ${rv}, current: ${cur}`,
          { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 });
      }
      if (opts.resourceVersionMatch === "Exact") {
        if (rv < this.storage.compactedRevision()) throw expired(`too old resource version: ${rv} (${this.storage.compactedRevision()})`);
        revision = rv;
      }
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
    const filtering = Boolean(opts.labelSelector?.length || opts.fieldSelector?.length);
    const items: KubeObject[] = [];
    let readAt = revision;
    let next: string | undefined = startKey;
    let more = false;
    let lastKey: string | undefined;
    try {
      for (;;) {
        const batch = await this.storage.range(prefix, {
          ...(limit ? { limit: filtering ? Math.max(limit, 100) : limit - items.length } : {}),
          ...(next !== undefined ? { startKey: next } : {}),
          ...(readAt !== undefined ? { revision: readAt } : {}),
        });
        readAt = batch.revision;
        more = false;
        for (let i = 0; i < batch.kvs.length; i++) {
          const kv = batch.kvs[i] as KV;
          const obj = this.decode(info, kv);
          lastKey = kv.key;
          if (this.#selected(info, obj, opts)) items.push(obj);
          if (limit && items.length >= limit) {
            more = i < batch.kvs.length - 1 || batch.more;
            break;
          }
        }
        if ((limit && items.length >= limit) || !batch.more) break;
        next = `${lastKey ?? prefix}\u0000`;
      }
    } catch (err) {
      if (err instanceof CompactedError) throw expired(opts.continueToken ? CONTINUE_EXPIRED : `too old resource version: ${revision} (${this.storage.compactedRevision()})`);
      throw err;
    }
    const result: ListResult = { items, resourceVersion: String(readAt ?? this.storage.currentRevision()) };
    if (more && lastKey !== undefined) {
      result.continueToken = encodeContinue(readAt ?? 0, `${lastKey.slice(prefix.length)}\u0000`);
      if (!filtering) {
        const rest = await this.storage.range(prefix, { startKey: `${lastKey}\u0000`, revision: readAt ?? 0 });
        result.remainingItemCount = rest.kvs.length;
      }
    }
    return result;
  }

  /** Checks the namespace a new object goes into: it must exist and not be terminating. */
  async #checkNamespace(info: ResourceInfo, ns: string | undefined, name: string): Promise<void> {
    if (!info.namespaced || ns === undefined) return;
    const kv = await this.storage.get(`/registry/namespaces/${ns}`);
    if (!kv) throw notFound("namespaces", ns);
    const nsObj = JSON.parse(kv.value.toString("utf8")) as KubeObject;
    if (nsObj.metadata.deletionTimestamp) {
      const e = forbidden(info.resource, name, `unable to create new content in namespace ${ns} because it is being terminated`, info.group);
      e.status.details = { ...e.status.details, causes: [{ reason: "NamespaceTerminating", message: `namespace ${ns} is being terminated`, field: "metadata.namespace" }] };
      throw e;
    }
  }

  #validate(info: ResourceInfo, obj: KubeObject, old?: KubeObject, subresource?: string): void {
    const errs = validateObject(info.resource, obj, old, subresource);
    if (errs.length === 0) return;
    const name = obj.metadata.name ?? "";
    throw invalid(info.kind, name, invalidMessage(info.kind, name, errs),
      errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })), info.group);
  }

  /** POST: a new object, defaulted, validated, stored; its resourceVersion is the write's revision. */
  async create(info: ResourceInfo, ns: string | undefined, obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const m = meta(obj);
    if (info.namespaced) {
      if (m.namespace !== undefined && m.namespace !== "" && m.namespace !== ns) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      m.namespace = ns;
    } else {
      delete m.namespace;
    }
    if (!m.name && typeof m.generateName === "string" && m.generateName) {
      m.name = m.generateName + Array.from(randomBytes(5), (b) => GENERATE_CHARS[b % GENERATE_CHARS.length]).join("");
    }
    m.uid = randomUUID();
    m.creationTimestamp = this.#now();
    m.generation = 1;
    delete m.resourceVersion;
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    delete m.selfLink;
    obj.apiVersion = apiVersionOf(info);
    obj.kind = info.kind;
    setDefaultsObject(info.resource, obj);
    prepareForCreate(info.resource, obj);
    this.#validate(info, obj);
    await this.#checkNamespace(info, ns, String(m.name));
    updateManagedFields(undefined, obj, opts.fieldManager ?? "unknown", "Update", opts.subresource, this.#now());
    if (opts.dryRun) return obj;
    try {
      const rev = await this.storage.create(storageKey(info, ns, String(m.name)), this.encode(info, obj));
      m.resourceVersion = String(rev);
      return obj;
    } catch (err) {
      if (err instanceof KeyExistsError) throw alreadyExists(info.resource, String(m.name), info.group);
      throw err;
    }
  }

  /**
   * Read-modify-write with compare-and-swap, retried when another write got in between
   * (GuaranteedUpdate). `mutate` gets a copy of the current object and returns the next one;
   * a resourceVersion it leaves that differs from the current one is a Conflict.
   */
  async update(
    info: ResourceInfo, ns: string | undefined, name: string,
    mutate: (cur: KubeObject) => KubeObject | Promise<KubeObject>, opts: WriteOptions = {},
  ): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      const { obj: cur, kv } = await this.getKV(info, ns, name);
      const next = await mutate(structuredClone(cur));
      const nm = meta(next);
      const wanted = nm.resourceVersion;
      if (wanted !== undefined && wanted !== "" && wanted !== cur.metadata.resourceVersion) throw conflict(info.resource, name, MODIFIED_CONFLICT, info.group);
      if (nm.name !== undefined && nm.name !== name) throw badRequest(`the name of the object (${String(nm.name)}) does not match the name on the URL (${name})`);
      if (info.namespaced && nm.namespace !== undefined && nm.namespace !== "" && nm.namespace !== ns) throw badRequest("the namespace of the provided object does not match the namespace sent on the request");
      this.#prepareForUpdate(info, cur, next, opts.subresource, opts.internal === true);
      this.#validate(info, next, cur, opts.subresource);
      // A binding writes the pod through BindingREST, not the field manager: kube-apiserver's pods
      // keep no managedFields entry for it.
      if (opts.subresource !== "binding") updateManagedFields(cur, next, opts.fieldManager ?? "unknown", "Update", opts.subresource, this.#now());
      const encoded = this.encode(info, next);
      if (encoded === this.encode(info, cur)) return cur;
      if (opts.dryRun) return next;
      // An object being deleted whose last finalizer went is removed now.
      if (!opts.internal && info.resource !== "namespaces" && next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && next.metadata.deletionGracePeriodSeconds === 0) {
        await this.#remove(info, ns, name, kv.modRevision, next);
        return next;
      }
      try {
        const rev = await this.storage.update(storageKey(info, ns, name), encoded, kv.modRevision);
        nm.resourceVersion = String(rev);
        return next;
      } catch (err) {
        if (err instanceof RevisionConflictError && (wanted === undefined || wanted === "") && attempt < MAX_UPDATE_RETRIES) continue;
        if (err instanceof RevisionConflictError) throw conflict(info.resource, name, MODIFIED_CONFLICT, info.group);
        if (err instanceof KeyNotFoundError) throw notFound(info.resource, name, info.group);
        throw err;
      }
    }
  }

  /** What an update may not change (BeforeUpdate + each strategy's PrepareForUpdate). */
  #prepareForUpdate(info: ResourceInfo, cur: KubeObject, next: KubeObject, subresource: string | undefined, internal: boolean): void {
    const nm = meta(next), cm = cur.metadata;
    const deletion = { ts: nm.deletionTimestamp, grace: nm.deletionGracePeriodSeconds };
    nm.name = cm.name;
    if (info.namespaced) nm.namespace = cm.namespace; else delete nm.namespace;
    nm.uid = cm.uid;
    nm.creationTimestamp = cm.creationTimestamp;
    if (cm.deletionTimestamp) nm.deletionTimestamp = cm.deletionTimestamp; else delete nm.deletionTimestamp;
    if (cm.deletionGracePeriodSeconds !== undefined) nm.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds; else delete nm.deletionGracePeriodSeconds;
    if (internal) {
      nm.deletionTimestamp = deletion.ts;
      nm.deletionGracePeriodSeconds = deletion.grace;
    }
    nm.generation = cm.generation ?? 1;
    next.apiVersion = apiVersionOf(info);
    next.kind = info.kind;
    const n = next as unknown as Obj, c = cur as unknown as Obj;
    if (info.hasStatusSubresource) {
      if (subresource === "status") {
        if ("spec" in c) n.spec = c.spec; else delete n.spec;
        if (cm.ownerReferences) nm.ownerReferences = cm.ownerReferences; else delete nm.ownerReferences;
      } else if (subresource === undefined) {
        if ("status" in c) n.status = c.status; else delete n.status;
      }
    }
    setDefaultsObject(info.resource, next);
    if (subresource === undefined && JSON.stringify(n.spec) !== JSON.stringify(c.spec)) nm.generation = (cm.generation ?? 1) + 1;
  }

  async #remove(info: ResourceInfo, ns: string | undefined, name: string, modRevision: number, obj: KubeObject): Promise<number> {
    const rev = await this.storage.delete(storageKey(info, ns, name), modRevision);
    meta(obj).resourceVersion = String(rev);
    this.onRemoved?.(info, obj);
    return rev;
  }

  /**
   * DELETE: preconditions, then graceful deletion for pods bound to a node (deletionTimestamp and
   * deletionGracePeriodSeconds; a later delete only shortens it), finalizers keep an object until
   * they are gone, anything else is removed at once. Returns the object and whether it is gone.
   */
  async delete(info: ResourceInfo, ns: string | undefined, name: string, options: DeleteOptions, opts: WriteOptions = {}): Promise<{ obj: KubeObject; removed: boolean }> {
    for (let attempt = 0; ; attempt++) {
      const { obj: cur, kv } = await this.getKV(info, ns, name);
      const pre = options.preconditions;
      if (pre?.uid !== undefined && pre.uid !== cur.metadata.uid) {
        throw conflict(info.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid ?? ""}`, info.group);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== cur.metadata.resourceVersion) {
        throw conflict(info.resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion ?? ""}`, info.group);
      }
      const next = structuredClone(cur);
      const nm = meta(next);
      let keep = false;
      const grace = this.#gracePeriod(info, cur, options);
      const nowMs = this.clock.now();
      if (grace > 0) {
        let deadline = nowMs + grace * 1000;
        const oldGrace = cur.metadata.deletionGracePeriodSeconds;
        if (cur.metadata.deletionTimestamp && oldGrace !== undefined) {
          // Already terminating: a delete may only shorten the grace, counted from the first request.
          if (grace >= oldGrace) return { obj: cur, removed: false };
          deadline = Date.parse(cur.metadata.deletionTimestamp) - oldGrace * 1000 + grace * 1000;
        }
        nm.deletionTimestamp = rfc3339(deadline);
        nm.deletionGracePeriodSeconds = grace;
        nm.generation = (cur.metadata.generation ?? 1) + 1;
        keep = true;
      } else if (cur.metadata.finalizers?.length) {
        if (cur.metadata.deletionTimestamp && cur.metadata.deletionGracePeriodSeconds === 0) return { obj: cur, removed: false };
        nm.deletionTimestamp = cur.metadata.deletionTimestamp ?? rfc3339(nowMs);
        nm.deletionGracePeriodSeconds = 0;
        keep = true;
      }
      if (opts.dryRun) return { obj: next, removed: !keep };
      try {
        if (keep) {
          const rev = await this.storage.update(storageKey(info, ns, name), this.encode(info, next), kv.modRevision);
          nm.resourceVersion = String(rev);
          return { obj: next, removed: false };
        }
        await this.#remove(info, ns, name, kv.modRevision, next);
        return { obj: next, removed: true };
      } catch (err) {
        if (err instanceof RevisionConflictError && attempt < MAX_UPDATE_RETRIES) continue;
        if (err instanceof KeyNotFoundError) throw notFound(info.resource, name, info.group);
        throw err;
      }
    }
  }

  /** The grace a delete gets: CheckGracefulDelete for pods, 0 (immediate) for everything else. */
  #gracePeriod(info: ResourceInfo, cur: KubeObject, options: DeleteOptions): number {
    if (info.resource !== "pods") return 0;
    const pod = cur as unknown as { spec?: { nodeName?: string; terminationGracePeriodSeconds?: number }; status?: { phase?: string } };
    let grace = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    if (!pod.spec?.nodeName) grace = 0;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") grace = 0;
    if (grace < 0) grace = 1;
    return grace;
  }

  /** Whether storage holds no object of `info` in namespace `ns`. */
  async emptyIn(info: ResourceInfo, ns: string): Promise<boolean> {
    const r = await this.storage.range(storageKey(info, ns), { limit: 1 });
    return r.kvs.length === 0;
  }

  /** Removes an object at once, whatever its grace (the namespace finalizer's last step). */
  async removeNow(info: ResourceInfo, ns: string | undefined, name: string): Promise<void> {
    const kv = await this.storage.get(storageKey(info, ns, name));
    if (!kv) return;
    try {
      await this.#remove(info, ns, name, kv.modRevision, this.decode(info, kv));
    } catch (err) {
      if (!(err instanceof KeyNotFoundError || err instanceof RevisionConflictError)) throw err;
    }
  }
}

