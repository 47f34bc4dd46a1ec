/**
 * What the scheduler asks of the API server, and a small client that asks it over HTTP(S)
 * with the Kubernetes API (so the scheduler works against any API server, as
 * kube-scheduler does): list and watch nodes and pods, bind, write events and status.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import { errorClass, InvalidArgumentError, newError, type ErrorClass } from "../errdefs/index.js";
import type { Event, KubeList, Node, Pod } from "../api/index.js";

/** As client-go builds it for kube-scheduler: `<command>/<version> (<os>/<arch>) kubernetes/<commit>`. */
export const USER_AGENT = `kube-scheduler/v1.32.4 (linux/${process.arch === "x64" ? "amd64" : process.arch}) kubernetes/podyard`;

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: T;
}

export interface WatchOptions {
  fieldSelector?: string;
  resourceVersion: string;
}

export interface SchedulerApi {
  listNodes(): Promise<Node[]>;
  /** the node list with its resourceVersion, to watch from */
  nodeList(): Promise<KubeList<Node>>;
  /** calls `onEvent` for each node watch event until the stream ends or `signal` aborts */
  watchNodes(opts: WatchOptions, onEvent: (e: WatchEvent<Node>) => void, signal: AbortSignal): Promise<void>;
  /** every pod (`fieldSelector` narrows it, e.g. `spec.nodeName=`) */
  listPods(fieldSelector?: string): Promise<KubeList<Pod>>;
  /** calls `onEvent` for each watch event until the stream ends or `signal` aborts */
  watchPods(opts: WatchOptions, onEvent: (e: WatchEvent<Pod>) => void, signal: AbortSignal): Promise<void>;
  bind(pod: Pod, nodeName: string): Promise<void>;
  createEvent(namespace: string, event: Event): Promise<void>;
  patchEvent(namespace: string, name: string, patch: object): Promise<void>;
  patchPodStatus(pod: Pod, patch: object): Promise<void>;
}

export interface ApiConnection {
  /** `https://127.0.0.1:6443` */
  server: string;
  ca?: Buffer | string;
  token?: string;
  cert?: Buffer | string;
  key?: Buffer | string;
}

/** HTTP status → the error class the message keeps (kube-apiserver's reasons). */
function classFor(status: number): ErrorClass {
  if (status === 404) return "NotFound";
  if (status === 409) return "AlreadyExists";
  if (status === 401) return "Unauthenticated";
  if (status === 403) return "PermissionDenied";
  if (status === 410) return "OutOfRange";
  if (status === 400 || status === 422) return "InvalidArgument";
  if (status === 429 || status >= 500) return "Unavailable";
  return "Internal";
}

export class HttpSchedulerApi implements SchedulerApi {
  readonly #base: URL;
  readonly #conn: ApiConnection;

  constructor(conn: ApiConnection) {
    this.#base = new URL(conn.server);
    if (this.#base.protocol !== "https:" && this.#base.protocol !== "http:") throw new InvalidArgumentError(`API server ${conn.server}: not an http(s) URL`);
    this.#conn = conn;
  }

  #open(method: string, path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<IncomingMessage> & { write(body: string): void } {
    const url = new URL(path, this.#base);
    const opts: RequestOptions & { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string } = {
      method,
      host: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port,
      path: `${url.pathname}${url.search}`,
      // kube-scheduler's client-go agent: the API server names its writes' field manager after the first word.
      headers: { Accept: "application/json", "User-Agent": USER_AGENT, ...headers, ...(this.#conn.token ? { Authorization: `Bearer ${this.#conn.token}` } : {}) },
      ...(signal ? { signal } : {}),
    };
    if (this.#conn.ca) opts.ca = this.#conn.ca;
    if (this.#conn.cert) opts.cert = this.#conn.cert;
    if (this.#conn.key) opts.key = this.#conn.key;
    let req!: ReturnType<typeof httpRequest>;
    const p = new Promise<IncomingMessage>((resolve, reject) => {
      req = (url.protocol === "https:" ? httpsRequest : httpRequest)(opts, resolve);
      req.on("error", reject);
    });
    return Object.assign(p, { write: (body: string) => void req.end(body) });
  }

  async #json<T>(method: string, path: string, body?: object, contentType = "application/json"): Promise<T> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const pending = this.#open(method, path, text === undefined ? {} : { "Content-Type": contentType, "Content-Length": String(Buffer.byteLength(text)) });
    pending.write(text ?? "");
    const res = await pending;
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      let message = raw.trim();
      try {
        message = (JSON.parse(raw) as { message?: string }).message ?? message;
      } catch {
        // not a Status: keep the text
      }
      throw newError(classFor(status), `${method} ${path}: ${status}: ${message}`);
    }
    return (raw === "" ? {} : JSON.parse(raw)) as T;
  }

  async listNodes(): Promise<Node[]> {
    return (await this.nodeList()).items;
  }

  async nodeList(): Promise<KubeList<Node>> {
    const list = await this.#json<KubeList<Node>>("GET", "/api/v1/nodes");
    return { ...list, items: list.items ?? [] };
  }

  watchNodes(opts: WatchOptions, onEvent: (e: WatchEvent<Node>) => void, signal: AbortSignal): Promise<void> {
    return this.#watch("/api/v1/nodes", "nodes", opts, onEvent, signal);
  }

  async listPods(fieldSelector?: string): Promise<KubeList<Pod>> {
    const q = fieldSelector === undefined ? "" : `?fieldSelector=${encodeURIComponent(fieldSelector)}`;
    const list = await this.#json<KubeList<Pod>>("GET", `/api/v1/pods${q}`);
    return { ...list, items: list.items ?? [] };
  }

  watchPods(opts: WatchOptions, onEvent: (e: WatchEvent<Pod>) => void, signal: AbortSignal): Promise<void> {
    return this.#watch("/api/v1/pods", "pods", opts, onEvent, signal);
  }

  async #watch<T>(path: string, what: string, opts: WatchOptions, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void> {
    const q = new URLSearchParams({ watch: "true", resourceVersion: opts.resourceVersion, allowWatchBookmarks: "true" });
    if (opts.fieldSelector !== undefined) q.set("fieldSelector", opts.fieldSelector);
    const pending = this.#open("GET", `${path}?${q.toString()}`, {}, signal);
    pending.write("");
    const res = await pending;
    if (res.statusCode !== 200) {
      res.resume();
      throw newError(classFor(res.statusCode ?? 0), `watch ${what}: ${res.statusCode ?? 0}`);
    }
    let buf = "";
    try {
      for await (const chunk of res) {
        buf += (chunk as Buffer).toString("utf8");
        let nl: number;
        while ((nl = buf.indexOf("\n")) !== -1) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line !== "") onEvent(JSON.parse(line) as WatchEvent<T>);
        }
      }
    } catch (err) {
      if (signal.aborted || errorClass(err) === "Aborted") return;
      throw err;
    }
  }

  async bind(pod: Pod, nodeName: string): Promise<void> {
    const ns = pod.metadata.namespace ?? "default";
    const name = pod.metadata.name ?? "";
    await this.#json("POST", `/api/v1/namespaces/${ns}/pods/${name}/binding`, {
      apiVersion: "v1",
      kind: "Binding",
      metadata: { name, namespace: ns, ...(pod.metadata.uid ? { uid: pod.metadata.uid } : {}) },
      target: { apiVersion: "v1", kind: "Node", name: nodeName },
    });
  }

  async createEvent(namespace: string, event: Event): Promise<void> {
    await this.#json("POST", `/api/v1/namespaces/${namespace}/events`, event);
  }

  async patchEvent(namespace: string, name: string, patch: object): Promise<void> {
    await this.#json("PATCH", `/api/v1/namespaces/${namespace}/events/${name}`, patch, "application/merge-patch+json");
  }

  async patchPodStatus(pod: Pod, patch: object): Promise<void> {
    await this.#json("PATCH", `/api/v1/namespaces/${pod.metadata.namespace ?? "default"}/pods/${pod.metadata.name ?? ""}/status`, patch, "application/strategic-merge-patch+json");
  }
}
