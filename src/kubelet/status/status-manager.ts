/**
 * The status manager: remembers the status the kubelet last generated for each pod and writes it
 * to `pods/<name>/status` when it changed (a JSON merge patch carrying the whole status; keys that
 * went away are nulled), one write at a time per pod, latest wins. After a terminal status of a
 * pod being deleted, it deletes the object (gracePeriodSeconds 0, precondition on its UID).
 */
import { isDeepStrictEqual } from "node:util";
import type { PodStatus } from "../../api/index.js";
import { isApiStatus, type KubeClient } from "../client/index.js";

export interface PodKey {
  namespace: string;
  name: string;
  /** The UID of the object in the API (a static pod's mirror has its own). */
  apiUid?: string;
}

interface Entry {
  key: PodKey;
  /** Generated, not yet known to be written. */
  wanted?: PodStatus;
  /** Last written. */
  sent?: PodStatus;
  writing?: Promise<void>;
}

export class StatusManager {
  readonly #client: KubeClient;
  readonly #entries = new Map<string, Entry>();
  readonly #onError: (err: unknown) => void;

  constructor(opts: { client: KubeClient; onError?(err: unknown): void }) {
    this.#client = opts.client;
    this.#onError = opts.onError ?? (() => {});
  }

  /** What was last set for the pod. */
  get(uid: string): PodStatus | undefined {
    const e = this.#entries.get(uid);
    return e?.wanted ?? e?.sent;
  }

  /** Seeds the manager with the API's view (so an unchanged status is not written again). */
  seed(uid: string, key: PodKey, status: PodStatus | undefined): void {
    const e = this.#entries.get(uid);
    if (e) {
      e.key = key;
      return;
    }
    this.#entries.set(uid, { key, ...(status ? { sent: status } : {}) });
  }

  set(uid: string, key: PodKey, status: PodStatus): Promise<void> {
    const e = this.#entries.get(uid) ?? { key };
    e.key = key;
    this.#entries.set(uid, e);
    if (isDeepStrictEqual(e.wanted ?? e.sent, status)) return e.writing ?? Promise.resolve();
    e.wanted = status;
    return this.#write(uid, e);
  }

  #write(uid: string, e: Entry): Promise<void> {
    if (e.writing) return e.writing.then(() => (e.wanted ? this.#write(uid, e) : undefined));
    e.writing = (async () => {
      while (e.wanted) {
        const status = e.wanted;
        const patch: Record<string, unknown> = { ...status };
        for (const k of Object.keys(e.sent ?? {})) if (!(k in status)) patch[k] = null;
        try {
          await this.#client.patch(`/api/v1/namespaces/${e.key.namespace}/pods/${e.key.name}/status`, { status: patch }, "merge");
          e.sent = status;
        } catch (err) {
          if (!isApiStatus(err, 404)) this.#onError(err);
          e.sent = status;
        }
        if (e.wanted === status) delete e.wanted;
      }
    })().finally(() => {
      delete e.writing;
    });
    return e.writing;
  }

  /** Resolves when the pod's writes so far are done. */
  flush(uid: string): Promise<void> {
    return this.#entries.get(uid)?.writing ?? Promise.resolve();
  }

  /** The final DELETE of a finished pod. */
  async deletePod(uid: string): Promise<void> {
    const e = this.#entries.get(uid);
    if (!e) return;
    await this.flush(uid);
    const pre = e.key.apiUid ?? uid;
    await this.#client.delete(`/api/v1/namespaces/${e.key.namespace}/pods/${e.key.name}`, { gracePeriodSeconds: 0, preconditions: { uid: pre } }).catch((err: unknown) => {
      if (!isApiStatus(err, 404) && !isApiStatus(err, 409)) this.#onError(err);
    });
  }

  /** The object changed under us (a mirror pod was made again): the next status is written whatever it is. */
  invalidate(uid: string): void {
    const e = this.#entries.get(uid);
    if (e) delete e.sent;
  }

  forget(uid: string): void {
    this.#entries.delete(uid);
  }
}
