/**
 * The ensure-secret-pulled-images records on disk (pullmanager `fs_pullrecords.go`):
 * `<dir>/pulling/` holds an intent per image being pulled, `<dir>/pulled/` a record per image ID
 * of who pulled it with which credentials. Files are `sha256-<hex>` JSON, written to a temporary
 * sibling and renamed, so a crash leaves the old or the new record, never half of one.
 */
import { createHash } from "node:crypto";
import { mkdir, readdir, rm, unlink } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../../errdefs/index.js";
import { isTempName, readFileIfExists, writeFileAtomic } from "../../fsutil/index.js";

const API_VERSION = "kubelet.config.k8s.io/v1alpha1";
/** Pulled records kept in memory (one per image on the node; more images than this read from disk). */
const MAX_CACHED = 1000;

export interface ImagePullSecretRecord {
  uid: string;
  namespace: string;
  name: string;
  credentialHash: string;
}

export interface ImagePullServiceAccount {
  uid: string;
  namespace: string;
  name: string;
}

/** Who may use an image pulled under one repository name. */
export interface ImagePullCredentials {
  kubernetesSecrets?: ImagePullSecretRecord[];
  kubernetesServiceAccounts?: ImagePullServiceAccount[];
  /** Pulled without pod credentials: every pod on the node may use it. */
  nodePodsAccessible?: boolean;
  /** Found on the node, not pulled by the kubelet. */
  preloaded?: boolean;
}

export interface ImagePullIntent {
  image: string;
}

export interface ImagePulledRecord {
  /** RFC 3339. */
  lastUpdatedTime: string;
  imageRef: string;
  /** Repository without tag or digest (`docker.io/library/nginx`) → credentials. */
  credentialMapping: Record<string, ImagePullCredentials>;
}

function fileName(key: string): string {
  return `sha256-${createHash("sha256").update(key).digest("hex")}`;
}

export class FsPullRecords {
  readonly #pulling: string;
  readonly #pulled: string;

  /** `dir` is the kubelet's `image_manager` directory. */
  constructor(dir: string) {
    this.#pulling = join(dir, "pulling");
    this.#pulled = join(dir, "pulled");
  }

  /** Pulled records by image ref, as last read or written (callers do not change them). */
  readonly #cache = new Map<string, ImagePulledRecord>();
  /** Directories this instance made already: a pull's intent then costs no mkdir calls. */
  readonly #made = new Set<string>();

  async #write(dir: string, name: string, obj: object): Promise<void> {
    const data = `${JSON.stringify(obj)}\n`;
    if (!this.#made.has(dir)) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.#made.add(dir);
    }
    try {
      await writeFileAtomic(join(dir, name), data, { mode: 0o600 });
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
      // the directory went since (removed by hand): make it again
      this.#made.delete(dir);
      await writeFileAtomic(join(dir, name), data, { mode: 0o600, mkdirMode: 0o700 });
      this.#made.add(dir);
    }
  }

  async #readDir<T>(dir: string, kind: string): Promise<T[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return [];
    }
    const out: T[] = [];
    for (const n of names.sort()) {
      if (isTempName(n)) continue;
      const parsed = await this.#readFile<T>(join(dir, n), kind);
      if (parsed !== undefined) out.push(parsed);
    }
    return out;
  }

  async #readFile<T>(path: string, kind: string): Promise<T | undefined> {
    const text = await readFileIfExists(path, "utf8");
    if (text === undefined) return undefined;
    try {
      const obj = JSON.parse(text) as { kind?: string } & T;
      // A record of another kind or version is not ours to trust; the kubelet then re-verifies.
      return obj.kind === kind ? obj : undefined;
    } catch {
      return undefined;
    }
  }

  async writeIntent(intent: ImagePullIntent): Promise<void> {
    await this.#write(this.#pulling, fileName(intent.image), { kind: "ImagePullIntent", apiVersion: API_VERSION, ...intent });
  }

  async getIntent(image: string): Promise<ImagePullIntent | undefined> {
    return this.#readFile<ImagePullIntent>(join(this.#pulling, fileName(image)), "ImagePullIntent");
  }

  async listIntents(): Promise<ImagePullIntent[]> {
    return this.#readDir<ImagePullIntent>(this.#pulling, "ImagePullIntent");
  }

  async deleteIntent(image: string): Promise<void> {
    // one unlink (rm would lstat first): this runs after every pull
    await unlink(join(this.#pulling, fileName(image))).catch((err: unknown) => {
      if (errnoCode(err) !== "ENOENT") throw err;
    });
  }

  async writePulled(record: ImagePulledRecord): Promise<void> {
    const stored = { kind: "ImagePulledRecord", apiVersion: API_VERSION, ...record };
    this.#cache.delete(record.imageRef);
    await this.#write(this.#pulled, fileName(record.imageRef), stored);
    this.#remember(record.imageRef, stored);
  }

  /** The record of `imageRef` (read from disk once, then from memory: this kubelet is its only writer). */
  async getPulled(imageRef: string): Promise<ImagePulledRecord | undefined> {
    const cached = this.#cache.get(imageRef);
    if (cached !== undefined) return cached;
    const read = await this.#readFile<ImagePulledRecord>(join(this.#pulled, fileName(imageRef)), "ImagePulledRecord");
    if (read !== undefined) this.#remember(imageRef, read);
    return read;
  }

  async listPulled(): Promise<ImagePulledRecord[]> {
    return this.#readDir<ImagePulledRecord>(this.#pulled, "ImagePulledRecord");
  }

  async deletePulled(imageRef: string): Promise<void> {
    this.#cache.delete(imageRef);
    await rm(join(this.#pulled, fileName(imageRef)), { force: true });
  }

  /** Keeps a record read or written, the newest MAX_CACHED ones (pullmanager's cached accessor does the same). */
  #remember(imageRef: string, record: ImagePulledRecord): void {
    this.#cache.delete(imageRef);
    this.#cache.set(imageRef, record);
    for (const k of this.#cache.keys()) {
      if (this.#cache.size <= MAX_CACHED) break;
      this.#cache.delete(k);
    }
  }
}
