/**
 * The HTTP face of the API server (kube-apiserver's handler chain, shortened): health and
 * version, discovery, OpenAPI, then per resource the REST verbs over the Registry, with
 * authentication, a max-in-flight limit, body limits, Tables, watches and the pod
 * subresources that reach the kubelet through ./proxy.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { DeleteOptions, KubeObject, Node, Pod } from "../api/index.js";
import { realClock, type Clock } from "../clock/index.js";
import {
  DEFAULT_MAX_BODY_BYTES, decodeObjectBody, dropPaths, mediaType, parseJson, parseYaml, PATCH_TYPES, readBody,
  unsupportedMediaType, wantsTable,
} from "./body.js";
import {
  aggregatedDiscovery, AGGREGATED_CONTENT_TYPE, apiGroupDoc, apiGroupList, apiResourceList, apiVersions, wantsAggregated,
} from "./discovery.js";
import { proxyPodLogs, proxyPodUpgrade, type KubeletConnectionInfo } from "./proxy/index.js";
import { Registry, rfc3339, type ListOptions, type WriteOptions } from "./registry.js";
import { findResource, RESOURCES, type ResourceInfo } from "./resources.js";
import { parseFieldSelector, parseLabelSelector } from "./selectors.js";
import {
  ApplyConflictError, buildOpenApiV3, decodeTypeError, goFormat, jsonMergePatch, jsonPatch, OPENAPI_GROUP_VERSIONS, PatchError, serverSideApply,
  strategicMergePatch, toTable, unknownFields, type OpenApiGroupVersion,
} from "./semantics.js";
import {
  ApiError, badRequest, conflict, forbidden, invalid, methodNotAllowed, resourceNotFound, successStatus, toApiError,
} from "./status.js";
import type { Storage } from "./storage/index.js";
import { serveWatch } from "./watch.js";

export const SERVER_VERSION = {
  major: "1", minor: "32", gitVersion: "v1.32.4-podyard", gitCommit: "0000000000000000000000000000000000000000",
  gitTreeState: "clean", buildDate: "2026-12-03T00:00:00Z", goVersion: `node${process.versions.node}`, compiler: "podyard",
  platform: `linux/${process.arch === "x64" ? "amd64" : process.arch}`,
};

// The answer's type as kube-openapi writes it: the "@" of the accepted type would not parse as a media type.
const OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
/** gnostic openapi_v2.Document: swagger (1) "2.0", info (2) { title (1) "Kubernetes", version (2) }. */
const OPENAPI_V2_EMPTY_PROTO = ((): Buffer => {
  const str = (field: number, v: Buffer | string): Buffer => {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v, "utf8");
    return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
  };
  return Buffer.concat([str(1, "2.0"), str(2, Buffer.concat([str(1, "Kubernetes"), str(2, SERVER_VERSION.gitVersion)]))]);
})();

export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
/** Namespaces kube-apiserver refuses to delete. */
const UNDELETABLE_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

export interface ApiServerOptions {
  storage: Storage;
  clock?: Clock;
  /** Who sent a request; undefined answers 401. Health endpoints and /version need no authentication. */
  authenticate?: (req: IncomingMessage) => { user: string; groups: string[] } | undefined;
  kubeletConnection?: KubeletConnectionInfo;
  /** host:port for /api's serverAddressByClientCIDRs. */
  serverAddress?: string;
  maxBodyBytes?: number;
  /** Concurrent non-long-running requests: 400 reads and 200 writes by default (kube-apiserver's defaults). */
  maxRequestsInFlight?: number;
  maxMutatingRequestsInFlight?: number;
  /** A watch with no timeoutSeconds closes after this long; 30 minutes by default. */
  watchTimeoutMs?: number;
  /** How often a watch that allows them gets a BOOKMARK; 60 s by default. */
  bookmarkIntervalMs?: number;
  /** Unsent output a watcher may have before it is dropped; 4 MiB by default. */
  maxWatchBufferedBytes?: number;
  /** Watch history kept: compaction runs this often to the revision of its previous run; 5 minutes by default. */
  compactionIntervalMs?: number;
  /** History kept at most, in revisions, whatever its age; 10000 by default. */
  maxHistoryRevisions?: number;
  /** Events older than this (by their last time) are removed at each compaction round; 1 hour by default (--event-ttl). */
  eventTtlMs?: number;
}

export interface ApiServer {
  /** For node:http/https `request` events. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** For `upgrade` events (exec, attach, portforward). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Attaches both handlers to a server. */
  listen(server: Server): void;
  /** Resolves once the system namespaces exist (requests wait for it too). */
  ready: Promise<void>;
  /** The REST storage layer, for in-process callers and tests. */
  registry: Registry;
  /** Ends watches and timers; the storage stays open (its owner closes it). */
  close(): Promise<void>;
}

interface Route {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  watch: boolean;
}

type Json = Record<string, unknown>;

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { "content-type": "application/json", "cache-control": "no-cache, private", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: unknown, headers: Record<string, string | string[]> = {}): void {
  const e = toApiError(err);
  send(res, e.httpCode, e.status, headers);
}

/** The field manager a request writes as: ?fieldManager, else the User-Agent's first word (as kube-apiserver). */
function fieldManagerOf(req: IncomingMessage, q: URLSearchParams): string {
  const fm = q.get("fieldManager");
  if (fm) return fm;
  const ua = req.headers["user-agent"] ?? "unknown";
  return (ua.split("/")[0] ?? "unknown").slice(0, 128) || "unknown";
}

const LONG_RUNNING = new Set(["log", "exec", "attach", "portforward", "proxy"]);

export function createApiServer(opts: ApiServerOptions): ApiServer {
  const clock = opts.clock ?? realClock;
  const storage = opts.storage;
  const registry = new Registry(storage, clock);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const maxRead = opts.maxRequestsInFlight ?? 400;
  const maxWrite = opts.maxMutatingRequestsInFlight ?? 200;
  const shutdown = new AbortController();
  let inFlightRead = 0, inFlightWrite = 0;

  // Built on first use and kept: the documents never change while the server runs.
  let openapi: ReturnType<typeof buildOpenApiV3> | undefined;
  const openapiDocs = (): ReturnType<typeof buildOpenApiV3> => (openapi ??= buildOpenApiV3());

  // ------------------------------------------------------------ namespaces

  const nsInfo = findResource("", "v1", "namespaces") as ResourceInfo;
  const saInfo = findResource("", "v1", "serviceaccounts") as ResourceInfo;
  const podInfo = findResource("", "v1", "pods") as ResourceInfo;
  const nodeInfo = findResource("", "v1", "nodes") as ResourceInfo;

  async function ensureDefaultServiceAccount(ns: string): Promise<void> {
    try {
      await registry.create(saInfo, ns, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default" } });
    } catch (err) {
      if (!(err instanceof ApiError && (err.status.reason === "AlreadyExists" || err.status.reason === "Forbidden"))) throw err;
    }
  }

  async function bootstrap(): Promise<void> {
    for (const ns of SYSTEM_NAMESPACES) {
      if (!(await storage.get(`/registry/namespaces/${ns}`))) {
        try {
          await registry.create(nsInfo, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
        } catch (err) {
          if (!(err instanceof ApiError && err.status.reason === "AlreadyExists")) throw err;
        }
      }
      await ensureDefaultServiceAccount(ns);
    }
    // Finish namespaces a previous run left terminating.
    for (const kv of (await storage.range("/registry/namespaces/")).kvs) {
      const ns = registry.decode(nsInfo, kv);
      if (ns.metadata.deletionTimestamp) scheduleFinalize(ns.metadata.name ?? "");
    }
  }

  /** The namespace controller, in process: empties a terminating namespace, then removes it. */
  const finalizing = new Map<string, boolean>();
  function scheduleFinalize(ns: string): void {
    if (finalizing.has(ns)) { finalizing.set(ns, true); return; }
    finalizing.set(ns, false);
    void (async () => {
      try {
        do {
          finalizing.set(ns, false);
          await finalizeNamespace(ns);
        } while (finalizing.get(ns) && !shutdown.signal.aborted);
      } catch {
        // A failed round is retried by the next removal in the namespace.
      } finally {
        finalizing.delete(ns);
      }
    })();
  }

  async function finalizeNamespace(ns: string): Promise<void> {
    const kv = await storage.get(`/registry/namespaces/${ns}`);
    if (!kv || !registry.decode(nsInfo, kv).metadata.deletionTimestamp) return;
    const seen = new Set<string>();
    let empty = true;
    for (const info of RESOURCES) {
      if (!info.namespaced || seen.has(info.storageResource)) continue;
      seen.add(info.storageResource);
      const { items } = await registry.list(info, ns, {});
      for (const obj of items) {
        empty = false;
        const name = obj.metadata.name ?? "";
        if (info.resource === "pods") {
          if (!obj.metadata.deletionTimestamp) await registry.delete(info, ns, name, {}).catch(() => undefined);
        } else {
          await registry.removeNow(info, ns, name);
        }
      }
    }
    if (!empty) {
      for (const info of RESOURCES) if (info.namespaced && !(await registry.emptyIn(info, ns))) return;
    }
    await registry.removeNow(nsInfo, undefined, ns);
  }

  registry.onRemoved = (info, obj) => {
    const ns = obj.metadata.namespace;
    if (info.namespaced && ns && !shutdown.signal.aborted) {
      void storage.get(`/registry/namespaces/${ns}`).then((kv) => {
        if (kv && registry.decode(nsInfo, kv).metadata.deletionTimestamp) scheduleFinalize(ns);
      }, () => undefined);
    }
  };

  // ------------------------------------------------------------ compaction

  const maxHistory = opts.maxHistoryRevisions ?? 10_000;
  void (async () => {
    let mark = storage.currentRevision();
    try {
      for (;;) {
        await clock.sleep(opts.compactionIntervalMs ?? 5 * 60_000, shutdown.signal);
        await storage.compact(mark);
        await expireEvents();
        mark = storage.currentRevision();
      }
    } catch { /* shut down */ }
  })();
  const eventsInfo = findResource("", "v1", "events") as ResourceInfo;
  /** Events live for eventTtlMs after they last happened, as kube-apiserver's lease-based TTL does. */
  async function expireEvents(): Promise<void> {
    const cutoff = clock.now() - (opts.eventTtlMs ?? 60 * 60_000);
    for (const kv of (await storage.range("/registry/events/")).kvs) {
      const ev = JSON.parse(kv.value.toString("utf8")) as { metadata: { name?: string; namespace?: string; creationTimestamp?: string }; lastTimestamp?: string; eventTime?: string; series?: { lastObservedTime?: string } };
      const last = ev.series?.lastObservedTime ?? ev.lastTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp;
      if (last && Date.parse(last) < cutoff) await registry.removeNow(eventsInfo, ev.metadata.namespace, ev.metadata.name ?? "");
    }
  }
  const compactIfLong = async (): Promise<void> => {
    const cur = storage.currentRevision();
    if (cur - storage.compactedRevision() > 2 * maxHistory) await storage.compact(cur - maxHistory);
  };

  const ready = bootstrap();
  ready.catch(() => undefined);

  // ------------------------------------------------------------ routing

  function parseRoute(path: string): Route | undefined {
    const segs = path.split("/").filter((s) => s !== "").map(decodeURIComponent);
    let group: string, version: string, rest: string[];
    if (segs[0] === "api" && segs[1] === "v1") { group = ""; version = "v1"; rest = segs.slice(2); }
    else if (segs[0] === "apis" && segs.length >= 3) { group = segs[1] ?? ""; version = segs[2] ?? ""; rest = segs.slice(3); }
    else return undefined;
    let watch = false;
    if (rest[0] === "watch") { watch = true; rest = rest.slice(1); }
    let namespace: string | undefined;
    if (rest[0] === "namespaces" && rest.length >= 3 && findResource(group, version, rest[2] ?? "")?.namespaced) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const info = findResource(group, version, rest[0] ?? "");
    if (!info || rest.length > 3) return undefined;
    if (info.namespaced && namespace === undefined && rest.length > 1) return undefined;
    if (!info.namespaced && namespace !== undefined) return undefined;
    const subresource = rest[2];
    if (subresource !== undefined && !(subresource in info.subresources)) return undefined;
    return { info, namespace, name: rest[1], subresource, watch };
  }

  function listOptions(q: URLSearchParams, info: ResourceInfo): ListOptions {
    const fieldSelector = parseFieldSelector(q.get("fieldSelector"));
    for (const r of fieldSelector) {
      if (r.key !== "metadata.name" && !(r.key === "metadata.namespace" && info.namespaced) && !info.fieldSelectors.includes(r.key)) {
        // Only the reason: kubectl puts its own "Unable to find ... that match label selector" before it.
        throw badRequest(`field label not supported: ${r.key}`);
      }
    }
    checkResourceVersion(q.get("resourceVersion"));
    const limit = Number(q.get("limit") ?? 0);
    return {
      labelSelector: parseLabelSelector(q.get("labelSelector")), fieldSelector,
      limit: Number.isFinite(limit) && limit > 0 ? Math.floor(limit) : 0,
      ...(q.get("continue") ? { continueToken: q.get("continue") as string } : {}),
      ...(q.get("resourceVersion") !== null ? { resourceVersion: q.get("resourceVersion") as string } : {}),
      ...(q.get("resourceVersionMatch") ? { resourceVersionMatch: q.get("resourceVersionMatch") as string } : {}),
    };
  }

  /**
   * A list's or watch's resourceVersion must be a revision number, as the storage's versioner
   * parses it (strconv.ParseUint); a malformed one is the client's error (400), never 410.
   */
  function checkResourceVersion(rv: string | null): void {
    if (rv === null || rv === "" || rv === "0") return;
    let why = "";
    if (!/^\d+$/.test(rv)) why = "invalid syntax";
    else if (BigInt(rv) > 0xffff_ffff_ffff_ffffn) why = "value out of range";
    if (why) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(rv)}: strconv.ParseUint: parsing ${JSON.stringify(rv)}: ${why}`);
  }

  function tableOpts(q: URLSearchParams): { includeObject: "None" | "Metadata" | "Object" } {
    const io = q.get("includeObject");
    return { includeObject: io === "None" || io === "Object" ? io : "Metadata" };
  }

  function dryRunOf(q: URLSearchParams): boolean {
    const values = q.getAll("dryRun");
    for (const v of values) if (v !== "All") throw badRequest(`Invalid dryRun value: ${v}; the only supported value is "All"`);
    return values.length > 0;
  }

  /** Unknown fields by ?fieldValidation: Strict refuses them, Warn names them in Warning headers, both drop them. */
  function checkUnknownFields(info: ResourceInfo, q: URLSearchParams, body: unknown, warnings: string[]): void {
    const mode = q.get("fieldValidation") ?? "Warn";
    if (mode !== "Strict" && mode !== "Warn" && mode !== "Ignore") {
      throw badRequest(`fieldValidation parameter unsupported: ${mode}, only Ignore, Warn and Strict are supported`);
    }
    if (mode === "Ignore") return;
    const unknown = unknownFields(info.resource, body, info.group).map((p) => p.replace(/^\./, ""));
    if (unknown.length === 0) return;
    if (mode === "Strict") {
      throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(", ")}`);
    }
    for (const u of unknown) warnings.push(`299 - ${JSON.stringify(`unknown field "${u}"`)}`);
    dropPaths(body, unknown);
  }

  /** A body with a value of the wrong JSON type is refused as kube-apiserver's decoder refuses it: 400. */
  function checkDecodable(info: ResourceInfo, body: unknown): void {
    const err = decodeTypeError(info.resource, body, info.group);
    if (err) throw badRequest(`${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: ${err}`);
  }

  /**
   * A patch whose result does not decode: 422 on the `patch` field, with the patched object (JSON
   * and merge patches) or the patch itself (strategic merge patch) as the invalid value.
   */
  function checkPatched(info: ResourceInfo, patched: unknown, shown: string): void {
    const err = decodeTypeError(info.resource, patched, info.group);
    if (!err) return;
    const body = `Invalid value: ${JSON.stringify(shown)}: ${err}`;
    throw invalid("", "", ` "" is invalid: patch: ${body}`, [{ reason: "FieldValueInvalid", message: body, field: "patch" }]);
  }

  function checkTypeMeta(info: ResourceInfo, body: Json): void {
    const av = info.group ? `${info.group}/${info.version}` : info.version;
    if (typeof body.apiVersion === "string" && body.apiVersion !== "" && body.apiVersion !== av) {
      throw badRequest(`the API version in the data (${body.apiVersion}) does not match the expected API version (${av})`);
    }
    if (typeof body.kind === "string" && body.kind !== "" && body.kind !== info.kind) {
      throw badRequest(`the kind in the data (${body.kind}) does not match the expected kind (${info.kind})`);
    }
  }

  function listKindBody(info: ResourceInfo, r: { items: KubeObject[]; resourceVersion: string; continueToken?: string; remainingItemCount?: number }): Json {
    return {
      kind: info.listKind, apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
      metadata: { resourceVersion: r.resourceVersion, ...(r.continueToken ? { continue: r.continueToken } : {}), ...(r.remainingItemCount !== undefined ? { remainingItemCount: r.remainingItemCount } : {}) },
      items: r.items.map((o) => { const { apiVersion: _a, kind: _k, ...rest } = o; return rest; }),
    };
  }

  /**
   * DeleteOptions as kube-apiserver's delete handler reads them: a non-empty body is decoded (kind
   * and apiVersion optional, meta/v1 DeleteOptions by default) and the query is then not looked
   * at; only without a body do the query parameters fill them.
   */
  async function deleteOptionsOf(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const body = await readBody(req, maxBody);
    let options: DeleteOptions = {};
    if (body.length > 0) {
      const v = mediaType(req.headers["content-type"]) === "application/yaml" ? parseYaml(body) : parseJson(body);
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw badRequest("decoded object cannot be converted to DeleteOptions");
      const kind = (v as { kind?: unknown }).kind;
      if (kind !== undefined && kind !== "" && kind !== "DeleteOptions") throw badRequest("decoded object cannot be converted to DeleteOptions");
      options = v as DeleteOptions;
      if (options.gracePeriodSeconds !== undefined && options.gracePeriodSeconds !== null && !Number.isInteger(options.gracePeriodSeconds)) {
        throw badRequest(`invalid gracePeriodSeconds: ${JSON.stringify(options.gracePeriodSeconds)}`);
      }
    } else {
      const g = q.get("gracePeriodSeconds");
      if (g !== null) {
        if (!/^-?\d+$/.test(g)) throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(g)}: invalid syntax`);
        options.gracePeriodSeconds = Number(g);
      }
      const policy = q.get("propagationPolicy");
      if (policy !== null) options.propagationPolicy = policy as NonNullable<DeleteOptions["propagationPolicy"]>;
      const orphan = q.get("orphanDependents");
      if (orphan !== null) (options as { orphanDependents?: boolean }).orphanDependents = orphan === "true" || orphan === "1";
      const dry = q.getAll("dryRun");
      if (dry.length > 0) options.dryRun = dry;
    }
    for (const v of options.dryRun ?? []) if (v !== "All") throw badRequest(`Invalid dryRun value: ${v}; the only supported value is "All"`);
    return options;
  }

  /** A delete's write options: its dry run comes from the DeleteOptions (body or query), as kube-apiserver's. */
  function deleteWriteOpts(base: WriteOptions, options: DeleteOptions): WriteOptions {
    return { ...base, dryRun: (options.dryRun ?? []).length > 0 };
  }

  async function respondObject(res: ServerResponse, req: IncomingMessage, q: URLSearchParams, info: ResourceInfo, code: number, obj: KubeObject, headers: Record<string, string | string[]>): Promise<void> {
    if (wantsTable(req.headers.accept)) {
      send(res, code, toTable(info.resource, [obj], { now: clock.now(), ...tableOpts(q) }), headers);
    } else {
      send(res, code, obj, headers);
    }
  }

  async function handleResource(req: IncomingMessage, res: ServerResponse, route: Route, q: URLSearchParams): Promise<void> {
    const { info, namespace: ns, name, subresource } = route;
    const method = req.method ?? "GET";
    const warnings: string[] = [];
    const headers = (): Record<string, string | string[]> => (warnings.length ? { warning: warnings } : {});
    const writeOpts = (): WriteOptions => ({ dryRun: dryRunOf(q), fieldManager: fieldManagerOf(req, q), ...(subresource ? { subresource } : {}) });

    if (name !== undefined && route.watch && subresource === undefined) {
      // /watch/namespaces/ns/pods/name: a watch of the collection narrowed to one name.
      q.set("fieldSelector", [q.get("fieldSelector"), `metadata.name=${name}`].filter(Boolean).join(","));
      return handleResource(req, res, { ...route, name: undefined }, q);
    }
    if (name === undefined) {
      if (method === "GET" && (route.watch || q.get("watch") === "true" || q.get("watch") === "1")) {
        const list = listOptions(q, info);
        const table = wantsTable(req.headers.accept);
        const timeoutSeconds = Number(q.get("timeoutSeconds") ?? NaN);
        await serveWatch(res, {
          registry, info, namespace: ns, list, resourceVersion: q.get("resourceVersion") ?? undefined,
          allowBookmarks: q.get("allowWatchBookmarks") === "true", sendInitialEvents: q.get("sendInitialEvents") === "true",
          timeoutMs: Number.isFinite(timeoutSeconds) && timeoutSeconds > 0 ? timeoutSeconds * 1000 : opts.watchTimeoutMs ?? 30 * 60_000,
          bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000, maxBufferedBytes: opts.maxWatchBufferedBytes ?? 4 * 1024 * 1024,
          clock, signal: shutdown.signal,
          render: (obj, first) => (table ? toTable(info.resource, [obj], { now: clock.now(), ...tableOpts(q), noHeaders: !first }) : obj),
        });
        return;
      }
      if (method === "GET") {
        const r = await registry.list(info, ns, listOptions(q, info));
        if (wantsTable(req.headers.accept)) {
          const t = toTable(info.resource, r.items, {
            now: clock.now(), ...tableOpts(q), resourceVersion: r.resourceVersion,
            ...(r.continueToken ? { continue: r.continueToken } : {}), ...(r.remainingItemCount !== undefined ? { remainingItemCount: r.remainingItemCount } : {}),
          });
          t.metadata = { ...t.metadata, resourceVersion: r.resourceVersion, ...(r.continueToken ? { continue: r.continueToken } : {}), ...(r.remainingItemCount !== undefined ? { remainingItemCount: r.remainingItemCount } : {}) };
          send(res, 200, t);
        } else {
          send(res, 200, listKindBody(info, r));
        }
        return;
      }
      if (method === "POST") {
        const body = decodeObjectBody(req.headers["content-type"], await readBody(req, maxBody));
        checkTypeMeta(info, body);
        checkDecodable(info, body);
        checkUnknownFields(info, q, body, warnings);
        const created = await registry.create(info, ns, body as unknown as KubeObject, writeOpts());
        if (info.resource === "namespaces" && !q.has("dryRun")) await ensureDefaultServiceAccount(created.metadata.name ?? "");
        await compactIfLong();
        await respondObject(res, req, q, info, 201, created, headers());
        return;
      }
      if (method === "DELETE") {
        const options = await deleteOptionsOf(req, q);
        const r = await registry.list(info, ns, listOptions(q, info));
        const deleted: KubeObject[] = [];
        for (const obj of r.items) {
          try {
            deleted.push(await deleteOne(info, obj.metadata.namespace, obj.metadata.name ?? "", options, deleteWriteOpts(writeOpts(), options)).then((x) => x.obj));
          } catch (err) {
            if (!(err instanceof ApiError && err.status.reason === "NotFound")) throw err;
          }
        }
        send(res, 200, listKindBody(info, { items: deleted, resourceVersion: String(storage.currentRevision()) }));
        return;
      }
      throw methodNotAllowed();
    }

    if (subresource === "log") {
      if (method !== "GET") throw methodNotAllowed();
      const pod = (await registry.get(info, ns, name)) as Pod;
      await proxyPodLogs(req, res, { pod, ...(await nodeOf(pod)), query: q, kubelet: kubeletInfo() });
      return;
    }
    if (subresource === "exec" || subresource === "attach" || subresource === "portforward") {
      await registry.get(info, ns, name);
      throw badRequest("Upgrade request required");
    }
    if (subresource === "binding") {
      if (method !== "POST") throw methodNotAllowed();
      const body = decodeObjectBody(req.headers["content-type"], await readBody(req, maxBody));
      const target = (body.target ?? {}) as { kind?: string; name?: string };
      if (!target.name) throw badRequest("target.name: Required value");
      await registry.update(info, ns, name, (cur) => {
        const pod = cur as Pod;
        if (pod.spec.nodeName) throw conflict("pods/binding", name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
        if (pod.metadata.deletionTimestamp) throw conflict("pods/binding", name, `pod ${name} is being deleted, cannot be assigned to a host`);
        pod.spec.nodeName = target.name;
        const status = (pod.status ??= {});
        const conds = (status.conditions ??= []).filter((c) => c.type !== "PodScheduled");
        conds.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: rfc3339(clock.now()) } as never);
        status.conditions = conds;
        return pod;
      }, { ...writeOpts(), subresource: "binding" });
      send(res, 201, successStatus());
      return;
    }
    if (subresource === "token") {
      if (method !== "POST") throw methodNotAllowed();
      await registry.get(info, ns, name);
      const body = decodeObjectBody(req.headers["content-type"], await readBody(req, maxBody));
      const seconds = Number(((body.spec ?? {}) as Json).expirationSeconds ?? 3600);
      send(res, 201, {
        kind: "TokenRequest", apiVersion: "authentication.k8s.io/v1", metadata: { name, namespace: ns, creationTimestamp: rfc3339(clock.now()) },
        spec: { ...(body.spec as Json | undefined), expirationSeconds: seconds },
        status: { token: `podyard-sa.${ns}.${name}.${randomBytes(24).toString("base64url")}`, expirationTimestamp: rfc3339(clock.now() + seconds * 1000) },
      });
      return;
    }

    switch (method) {
      case "GET": {
        const obj = await registry.get(info, ns, name);
        await respondObject(res, req, q, info, 200, obj, {});
        return;
      }
      case "PUT": {
        const body = decodeObjectBody(req.headers["content-type"], await readBody(req, maxBody));
        checkTypeMeta(info, body);
        checkDecodable(info, body);
        checkUnknownFields(info, q, body, warnings);
        const updated = await registry.update(info, ns, name, () => body as unknown as KubeObject, writeOpts());
        await compactIfLong();
        await respondObject(res, req, q, info, 200, updated, headers());
        return;
      }
      case "PATCH": {
        const { obj, created } = await patch(req, q, route, name, warnings, writeOpts());
        await compactIfLong();
        await respondObject(res, req, q, info, created ? 201 : 200, obj, headers());
        return;
      }
      case "DELETE": {
        const options = await deleteOptionsOf(req, q);
        const { obj, removed } = await deleteOne(info, ns, name, options, deleteWriteOpts(writeOpts(), options));
        // 200 even when the object stays (graceful pods, namespaces), as kube-apiserver keeps it for
        // old clients; 202 only when orphanDependents=false asked for it.
        const code = !removed && (options as { orphanDependents?: boolean }).orphanDependents === false ? 202 : 200;
        if (info.resource === "pods" || info.resource === "namespaces" || !removed) send(res, code, obj);
        else send(res, 200, successStatus({ name, ...(info.group ? { group: info.group } : {}), kind: info.resource, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) }));
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  async function deleteOne(info: ResourceInfo, ns: string | undefined, name: string, options: DeleteOptions, w: WriteOptions): Promise<{ obj: KubeObject; removed: boolean }> {
    if (info.resource !== "namespaces") return registry.delete(info, ns, name, options, w);
    if (UNDELETABLE_NAMESPACES.has(name)) {
      await registry.get(info, undefined, name);
      throw forbidden("namespaces", name, "this namespace may not be deleted");
    }
    const obj = await registry.get(info, undefined, name);
    if (obj.metadata.deletionTimestamp) return { obj, removed: false };
    // Terminating first; the namespace controller below empties it and then removes it.
    const next = await registry.update(info, undefined, name, (cur) => {
      cur.metadata.deletionTimestamp = rfc3339(clock.now());
      cur.metadata.deletionGracePeriodSeconds = 0;
      (cur as unknown as Json).status = { ...((cur as unknown as Json).status as Json | undefined), phase: "Terminating" };
      return cur;
    }, { ...w, subresource: "status", internal: true });
    if (!w.dryRun) scheduleFinalize(name);
    return { obj: next, removed: false };
  }

  async function patch(req: IncomingMessage, q: URLSearchParams, route: Route, name: string, warnings: string[], w: WriteOptions): Promise<{ obj: KubeObject; created: boolean }> {
    const { info, namespace: ns } = route;
    const type = mediaType(req.headers["content-type"]);
    if (!PATCH_TYPES.includes(type)) throw unsupportedMediaType(PATCH_TYPES);
    const raw = await readBody(req, maxBody);
    const body = type === "application/apply-patch+yaml" ? parseYaml(raw) : parseJson(raw);
    const isObject = typeof body === "object" && body !== null && !Array.isArray(body);
    if (type !== "application/json-patch+json" && !isObject) throw badRequest("the body of a patch must be a JSON object");
    const patchError = (err: unknown): never => {
      if (err instanceof PatchError) throw patchStatus(err);
      throw err;
    };
    if (type === "application/apply-patch+yaml") {
      const manager = q.get("fieldManager");
      if (!manager) throw badRequest("PATCH requests with application/apply-patch+yaml content type must specify a fieldManager");
      checkTypeMeta(info, body as Json);
      checkDecodable(info, body);
      checkUnknownFields(info, q, body, warnings);
      const force = q.get("force") === "true";
      const applyOpts = { manager, force, now: rfc3339(clock.now()), kind: info.kind, ...(route.subresource ? { subresource: route.subresource } : {}) };
      try {
        const obj = await registry.update(info, ns, name, (cur) => serverSideApply(cur, body as KubeObject, applyOpts), w);
        return { obj, created: false };
      } catch (err) {
        if (!(err instanceof ApiError && err.status.reason === "NotFound" && err.status.details?.name === name)) throw mapApplyError(err);
      }
      let applied: KubeObject;
      try { applied = serverSideApply(undefined, body as KubeObject, applyOpts); } catch (err) { throw mapApplyError(err); }
      return { obj: await registry.create(info, ns, applied, w), created: true };
    }
    if (q.get("force") !== null) throw badRequest("force is only valid for requests with content type application/apply-patch+yaml");
    const obj = await registry.update(info, ns, name, (cur) => {
      let next: unknown;
      try {
        if (type === "application/json-patch+json") next = jsonPatch(cur, body);
        else if (type === "application/merge-patch+json") next = jsonMergePatch(cur, body);
        else next = strategicMergePatch(cur, body, info.kind);
      } catch (err) {
        return patchError(err);
      }
      if (typeof next !== "object" || next === null || Array.isArray(next)) throw new ApiError(422, "Invalid", "the patch made the object something other than an object");
      checkPatched(info, next, type === "application/strategic-merge-patch+json" ? goFormat(body) : JSON.stringify(next));
      checkUnknownFields(info, q, next, warnings);
      return next as KubeObject;
    }, w);
    return { obj, created: false };
  }

  /** A server-side apply conflict as kube-apiserver answers it: 409 Conflict with FieldManagerConflict causes. */
  function mapApplyError(err: unknown): unknown {
    if (err instanceof ApplyConflictError) return new ApiError(409, "Conflict", err.message, err.status.details ?? { causes: err.causes }, { cause: err });
    if (err instanceof PatchError) return patchStatus(err);
    return err;
  }

  function patchStatus(err: InstanceType<typeof PatchError>): ApiError {
    return err.status === 400 ? new ApiError(400, "BadRequest", err.message, undefined, { cause: err }) : new ApiError(422, "Invalid", err.message, undefined, { cause: err });
  }

  function kubeletInfo(): KubeletConnectionInfo {
    return opts.kubeletConnection ?? { clientCert: "", clientKey: "" };
  }

  async function nodeOf(pod: Pod): Promise<{ node?: Node }> {
    if (!pod.spec?.nodeName) return {};
    try {
      return { node: (await registry.get(nodeInfo, undefined, pod.spec.nodeName)) as Node };
    } catch {
      return {};
    }
  }

  // ------------------------------------------------------------ top level

  async function serve(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const q = url.searchParams;
    const method = req.method ?? "GET";
    const accept = req.headers.accept;
    if (path === "/healthz" || path === "/livez" || path === "/readyz" || path.startsWith("/healthz/") || path.startsWith("/livez/") || path.startsWith("/readyz/")) {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" }).end("ok");
      return;
    }
    // /version is public as kube-apiserver's system:public-info-viewer makes it: the kubectl
    // dispatcher asks it before it has read any credentials.
    if (path === "/version") return send(res, 200, SERVER_VERSION);
    if (opts.authenticate && !opts.authenticate(req)) {
      send(res, 401, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
      return;
    }
    await ready;
    if (path === "/api" || path === "/apis") {
      const agg = wantsAggregated(accept);
      if (agg) return send(res, 200, aggregatedDiscovery(path === "/api" ? "api" : "apis", agg.version), { "content-type": AGGREGATED_CONTENT_TYPE.replace("v=v2", `v=${agg.version}`) });
      return send(res, 200, path === "/api" ? apiVersions(opts.serverAddress ?? req.headers.host ?? "127.0.0.1:6443") : apiGroupList());
    }
    if (path === "/api/v1") return send(res, 200, apiResourceList("", "v1"));
    const groupMatch = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (groupMatch) {
      const doc = groupMatch[2] ? apiResourceList(groupMatch[1] ?? "", groupMatch[2]) : apiGroupDoc(groupMatch[1] ?? "");
      if (doc) return send(res, 200, doc);
      throw resourceNotFound();
    }
    if (path === "/openapi/v2") {
      // A document with no definitions: kubectl's client-side validation, which runs only for a kind
      // the v3 documents lack (apiVersion v2, kind Widget), then skips it and reports kubectl's own
      // "no matches for kind" mapping error, as against a real cluster.
      if (/protobuf/.test(accept ?? "")) {
        res.writeHead(200, { "content-type": OPENAPI_V2_PROTOBUF, "content-length": OPENAPI_V2_EMPTY_PROTO.length }).end(OPENAPI_V2_EMPTY_PROTO);
        return;
      }
      return send(res, 200, { swagger: "2.0", info: { title: "Kubernetes", version: SERVER_VERSION.gitVersion }, paths: {}, definitions: {} });
    }
    if (path === "/openapi/v3") {
      return send(res, 200, openapiDocs().index);
    }
    if (path.startsWith("/openapi/v3/")) {
      const gv = path.slice("/openapi/v3/".length) as OpenApiGroupVersion;
      if (!OPENAPI_GROUP_VERSIONS.includes(gv)) throw resourceNotFound();
      const d = openapiDocs().documents.get(gv);
      if (!d) throw resourceNotFound();
      res.writeHead(200, {
        "content-type": "application/json", etag: `"${d.hash}"`,
        "cache-control": q.get("hash") === d.hash ? "public, immutable" : "no-cache, private",
        "content-length": Buffer.byteLength(d.json),
      }).end(d.json);
      return;
    }
    if (path === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions" && method === "GET") {
      // kubectl's schema validation asks whether a kind it has no schema for is a CRD; podyard has
      // none, so the answer is an empty list and kubectl goes on to its "no matches for kind" error.
      return send(res, 200, { kind: "CustomResourceDefinitionList", apiVersion: "apiextensions.k8s.io/v1", metadata: { resourceVersion: String(storage.currentRevision()) }, items: [] });
    }
    const route = parseRoute(path);
    if (!route) throw resourceNotFound();
    // Method checks before reading a body.
    if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(method)) throw methodNotAllowed();
    await handleResource(req, res, route, q);
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://localhost");
    } catch {
      sendError(res, badRequest(`invalid request URL: ${req.url ?? ""}`));
      return;
    }
    const mutating = req.method !== "GET" && req.method !== "HEAD" && req.method !== "OPTIONS";
    const q = url.searchParams;
    const longRunning = q.get("watch") === "true" || q.get("watch") === "1" || /\/watch\//.test(url.pathname) || LONG_RUNNING.has(url.pathname.split("/").pop() ?? "");
    if (!longRunning) {
      if (mutating ? inFlightWrite >= maxWrite : inFlightRead >= maxRead) {
        req.resume();
        send(res, 429, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Too many requests, please try again later.", reason: "TooManyRequests", details: { retryAfterSeconds: 1 }, code: 429 }, { "retry-after": "1" });
        return;
      }
      if (mutating) inFlightWrite++; else inFlightRead++;
      res.once("close", () => { if (mutating) inFlightWrite--; else inFlightRead--; });
    }
    serve(req, res, url).catch((err: unknown) => {
      const e = toApiError(err);
      if (e.status.reason === "RequestEntityTooLarge") {
        // The rest of the body is not read: close the connection after the answer.
        send(res, e.httpCode, e.status, { connection: "close" });
        return;
      }
      if (res.headersSent) { res.destroy(); return; }
      sendError(res, e);
    });
  }

  function writeSocketStatus(socket: Duplex, err: unknown): void {
    const e = toApiError(err);
    const text = JSON.stringify(e.status);
    socket.end(`HTTP/1.1 ${e.httpCode} ${e.status.reason ?? "Error"}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
  }

  function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    void (async () => {
      try {
        const url = new URL(req.url ?? "/", "http://localhost");
        if (opts.authenticate && !opts.authenticate(req)) {
          throw new ApiError(401, "Unauthorized", "Unauthorized");
        }
        await ready;
        const route = parseRoute(url.pathname);
        if (!route || route.info !== podInfo || !route.name || (route.subresource !== "exec" && route.subresource !== "attach" && route.subresource !== "portforward")) {
          throw badRequest("upgrade not supported");
        }
        const pod = (await registry.get(podInfo, route.namespace, route.name)) as Pod;
        proxyPodUpgrade(req, socket, head, { pod, ...(await nodeOf(pod)), subresource: route.subresource, query: url.searchParams, kubelet: kubeletInfo() });
      } catch (err) {
        writeSocketStatus(socket, err);
      }
    })();
  }

  return {
    handleRequest,
    handleUpgrade,
    listen(server: Server): void {
      server.on("request", handleRequest);
      server.on("upgrade", handleUpgrade);
    },
    ready,
    registry,
    async close(): Promise<void> {
      shutdown.abort();
      await ready.catch(() => undefined);
    },
  };
}

