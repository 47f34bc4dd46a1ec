/**
 * client-go's Reflector + informer store in one: list, then watch from the list's resourceVersion
 * (with bookmarks), keeping a store of the objects and telling a handler what was added, updated
 * and deleted. A 410 Gone (or an ERROR event carrying it) relists; a broken connection reconnects
 * with back-off (800 ms doubling to 30 s, on the injected clock); a stream the server ends
 * is re-watched from the last resourceVersion seen.
 */
import type { KubeObject, Status } from "../../api/index.js";
import { realClock, type Clock } from "../../clock/index.js";
import { isApiStatus, type KubeClient } from "./kube-client.js";

export interface ReflectorHandler<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, old: T): void;
  onDelete?(obj: T): void;
  /** After each list: the store now holds exactly what the server listed. */
  onSync?(items: T[]): void;
}

export interface ReflectorOptions<T extends KubeObject> {
  client: KubeClient;
  /** The collection: `/api/v1/pods`, `/api/v1/namespaces/default/configmaps`. */
  path: string;
  /** Extra list/watch parameters (fieldSelector, labelSelector). */
  query?: Record<string, string>;
  handler: ReflectorHandler<T>;
  clock?: Clock;
  /** Called with errors the reflector recovers from (for the agent's log). */
  onError?(err: unknown): void;
  /** Server-side watch timeout asked for (seconds); default 5-10 min as client-go picks. */
  timeoutSeconds?: number;
}

const key = (o: KubeObject): string => `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

export class Reflector<T extends KubeObject> {
  readonly #opts: ReflectorOptions<T>;
  readonly #clock: Clock;
  readonly #store = new Map<string, T>();
  #resourceVersion = "";
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  /** Lists made so far (tests read it to see a relist). */
  lists = 0;

  constructor(opts: ReflectorOptions<T>) {
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
  }

  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  items(): T[] {
    return [...this.#store.values()];
  }

  get(namespace: string, name: string): T | undefined {
    return this.#store.get(`${namespace}/${name}`);
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves after the first list has been delivered. */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  async #list(signal: AbortSignal): Promise<void> {
    const list = await this.#opts.client.list<T>(this.#opts.path, { ...this.#opts.query }, signal);
    this.lists++;
    const h = this.#opts.handler;
    const seen = new Set<string>();
    for (const item of list.items) {
      const k = key(item);
      seen.add(k);
      const old = this.#store.get(k);
      this.#store.set(k, item);
      if (!old) h.onAdd?.(item);
      else if (old.metadata.resourceVersion !== item.metadata.resourceVersion) h.onUpdate?.(item, old);
    }
    for (const [k, old] of this.#store) {
      if (!seen.has(k)) {
        this.#store.delete(k);
        h.onDelete?.(old);
      }
    }
    this.#resourceVersion = list.metadata.resourceVersion ?? "";
    h.onSync?.(list.items);
    if (!this.#synced) {
      this.#synced = true;
      for (const w of this.#syncWaiters.splice(0)) w();
    }
  }

  /** Returns "relist" when the watch must start over from a list, "rewatch" when it may resume. */
  async #watch(signal: AbortSignal): Promise<"relist" | "rewatch"> {
    const h = this.#opts.handler;
    const timeout = this.#opts.timeoutSeconds ?? Math.floor(300 + Math.random() * 300);
    const stream = this.#opts.client.watch<T>(this.#opts.path, {
      ...this.#opts.query, resourceVersion: this.#resourceVersion, allowWatchBookmarks: "true", timeoutSeconds: String(timeout),
    }, signal);
    for await (const ev of stream) {
      if (ev.type === "ERROR") {
        const st = ev.object as Status;
        if (st.code === 410) return "relist";
        throw new Error(`watch ${this.#opts.path}: ${st.message ?? "error event"}`);
      }
      const obj = ev.object as T;
      const rv = obj.metadata?.resourceVersion;
      if (ev.type === "BOOKMARK") {
        if (rv) this.#resourceVersion = rv;
        continue;
      }
      const k = key(obj);
      const old = this.#store.get(k);
      if (ev.type === "DELETED") {
        this.#store.delete(k);
        h.onDelete?.(obj);
      } else {
        this.#store.set(k, obj);
        if (old) h.onUpdate?.(obj, old);
        else h.onAdd?.(obj);
      }
      if (rv) this.#resourceVersion = rv;
    }
    return "rewatch";
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let backoff = 800;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) await this.#list(signal);
        needList = (await this.#watch(signal)) === "relist";
        backoff = 800;
      } catch (err) {
        if (signal.aborted) return;
        if (isApiStatus(err, 410)) {
          needList = true;
          continue;
        }
        this.#opts.onError?.(err);
        needList = true;
        try {
          await this.#clock.sleep(backoff, signal);
        } catch {
          return;
        }
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }
}
