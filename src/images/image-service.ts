/**
 * The node's image service (the CRI ImageService's job, and docker's image commands):
 * pull, push, list, tag, remove, inspect, history. Each operation lives in its own
 * file; this class holds the stores and puts the steps in order.
 */
import { FailedPreconditionError } from "../errdefs/index.js";
import { parseManifest, type Digest, type HistoryEntry, type ImageConfig, type ImageManifest } from "../oci/index.js";
import { familiarName, familiarString, parseDockerRef, parseNormalizedNamed } from "../reference/index.js";
import { chainIDs, readBlob, WorkerLayerApplier, type ContentStore, type ImageRecord, type ImageStore, type Snapshotter } from "../store/index.js";
import { BlobFetcher } from "./blob-fetcher.js";
import { findImage, type FoundImage } from "./find-image.js";
import { hasRepoDigest } from "./image-labels.js";
import { SingleFlight } from "../concurrency/index.js";
import { pullImage } from "./pull-image.js";
import { pushImage, type PushEvent } from "./push-image.js";
import { registerImage, type RegisterOptions } from "./register-image.js";
import type { PullOptions, PullResult, RegistryResolver } from "./types.js";

export interface ImageServiceOptions {
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  resolver: RegistryResolver;
  /** unfinished downloads older than this are dropped by prune (default 24 h); younger ones are kept for resuming */
  ingestTtlMs?: number;
  /** extract layers in a worker thread, beside the downloads (default true) */
  unpackInWorker?: boolean;
  /** layer downloads at once (docker's max-concurrent-downloads), default 3 */
  concurrency?: number;
  /** whether a container uses the image (by image ID); such images are removed only when forced */
  inUse?: (configDigest: Digest) => boolean;
}

export interface RemoveResult {
  untagged: string[];
  deleted: Digest[];
}

export interface ImageDetails {
  record: ImageRecord;
  names: string[];
  manifest: ImageManifest;
  config: ImageConfig;
}

export class ImageService {
  readonly #content: ContentStore;
  readonly #images: ImageStore;
  readonly #snapshotter: Snapshotter;
  readonly #resolver: RegistryResolver;
  readonly #fetcher: BlobFetcher;
  readonly #pulls = new SingleFlight<PullResult>();
  readonly #inUse: (configDigest: Digest) => boolean;
  readonly #ingestTtlMs: number;
  readonly #applier: WorkerLayerApplier | undefined;

  constructor(opts: ImageServiceOptions) {
    this.#content = opts.content;
    this.#images = opts.images;
    this.#snapshotter = opts.snapshotter;
    this.#resolver = opts.resolver;
    this.#fetcher = new BlobFetcher(opts.content, { concurrency: opts.concurrency ?? 3 });
    this.#inUse = opts.inUse ?? (() => false);
    this.#ingestTtlMs = opts.ingestTtlMs ?? 24 * 3600_000;
    this.#applier = opts.unpackInWorker === false ? undefined : new WorkerLayerApplier();
  }

  /** Pulls `image`; concurrent pulls of one reference share one pull. */
  async pull(image: string, opts: PullOptions = {}): Promise<PullResult> {
    const ref = parseDockerRef(image);
    const key = `${ref.toString()} ${JSON.stringify(opts.platform ?? null)}`;
    this.#applier?.warm();
    return this.#pulls.do(key, () => pullImage({
      fetcher: this.#fetcher,
      images: this.#images,
      snapshotter: this.#snapshotter,
      readBlob: (d) => this.readBlob(d),
      openBlob: (d) => this.#content.reader(d),
      blobPath: (d) => this.#content.path(d),
      ...(this.#applier ? { applier: this.#applier.apply } : {}),
    }, this.#resolver.puller(ref), ref, opts));
  }

  async push(image: string, opts: { onProgress?: (e: PushEvent) => void } = {}): Promise<{ name: string; digest: Digest; size: number }> {
    const ref = parseDockerRef(image);
    const { record } = findImage(this.#images, image);
    const result = await pushImage({
      readBlob: (d) => this.readBlob(d),
      openBlob: (d) => this.#content.reader(d),
      hasBlob: async (d) => (await this.#content.info(d)) !== undefined,
      mountSources: async () => this.#images.list()
        .filter((r) => parseDockerRef(r.name).domain === ref.domain)
        .map((r) => parseDockerRef(r.name).path),
    }, await this.#resolver.pusher(ref), { ref, record, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    return { name: ref.toString(), ...result };
  }

  /** Stops the extraction worker. */
  async close(): Promise<void> {
    await this.#applier?.close();
  }

  /** Names an image whose blobs are already stored (load, import, build), unpacking its layers. */
  async register(opts: RegisterOptions): Promise<ImageRecord[]> {
    return registerImage({ content: this.#content, images: this.#images, snapshotter: this.#snapshotter, readBlob: (d) => this.readBlob(d) }, opts);
  }

  /** The content store, for archives that read and write blobs directly. */
  get content(): ContentStore {
    return this.#content;
  }

  async readBlob(d: Digest): Promise<Buffer> {
    return readBlob(this.#content, d);
  }

  find(image: string): FoundImage {
    return findImage(this.#images, image);
  }

  list(): ImageRecord[] {
    return this.#images.list();
  }

  /** Gives the image `source` names another name. */
  tag(source: string, target: string): ImageRecord {
    const { record } = findImage(this.#images, source);
    const name = parseDockerRef(target).toString();
    return this.#images.put({
      name,
      target: record.target,
      configDigest: record.configDigest,
      manifestDigest: record.manifestDigest,
      size: record.size,
      labels: record.labels,
      ...(record.created !== undefined ? { created: record.created } : {}),
    });
  }

  /**
   * Removes a name, or by image ID every name of the image. When an image has no
   * names left its blobs and snapshots go too, unless another image shares them.
   */
  async remove(image: string, opts: { force?: boolean } = {}): Promise<RemoveResult> {
    const found = findImage(this.#images, image);
    const id = found.record.configDigest;
    const names = found.byID ? found.all : [found.record];
    if (found.byID && found.all.length > 1 && !opts.force) {
      throw new FailedPreconditionError(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
    }
    const last = names.length === found.all.length;
    if (last && this.#inUse(id) && !opts.force) {
      throw new FailedPreconditionError(`conflict: unable to remove repository reference "${image}" (must force) - a container is using its referenced image ${id.slice(7, 19)}`);
    }
    const untagged: string[] = [];
    for (const r of names) {
      this.#images.delete(r.name);
      untagged.push(r.name);
    }
    const deleted = last && !this.#inUse(id) ? await this.prune() : [];
    return { untagged, deleted };
  }

  /**
   * Deletes what no image record needs: blobs (manifests, configs, layers) and
   * committed snapshots of layer chains no image uses. Returns the deleted image IDs' blobs.
   */
  async prune(): Promise<Digest[]> {
    const liveBlobs = new Set<Digest>();
    const liveChains = new Set<string>();
    for (const r of this.#images.list()) {
      liveBlobs.add(r.target.digest);
      const stack = [r.target];
      while (stack.length > 0) {
        const d = stack.pop();
        if (!d || !(await this.#content.info(d.digest))) continue;
        liveBlobs.add(d.digest);
        const parsed = parseManifest(await this.readBlob(d.digest), d.mediaType);
        if (parsed.kind === "index") stack.push(...parsed.body.manifests);
        else {
          liveBlobs.add(parsed.body.config.digest);
          for (const l of parsed.body.layers) liveBlobs.add(l.digest);
          if (d.digest === r.manifestDigest && (await this.#content.info(parsed.body.config.digest))) {
            const config = JSON.parse((await this.readBlob(parsed.body.config.digest)).toString()) as ImageConfig;
            for (const c of chainIDs(config.rootfs.diff_ids)) liveChains.add(c);
          }
        }
      }
    }
    await this.#content.pruneIngests(this.#ingestTtlMs);
    const deleted: Digest[] = [];
    for await (const info of this.#content.walk()) {
      if (liveBlobs.has(info.digest)) continue;
      await this.#content.delete(info.digest);
      deleted.push(info.digest);
    }
    // Remove what crashed unpacks left, then unused committed snapshots, children before parents.
    await this.#snapshotter.cleanup();
    const snapshots: { name: string; parent?: string; kind: string }[] = [];
    for (const s of await this.#snapshotter.walk()) snapshots.push(s);
    let removed = true;
    while (removed) {
      removed = false;
      for (const s of snapshots) {
        if (s.kind !== "committed" || liveChains.has(s.name)) continue;
        if (snapshots.some((c) => c.parent === s.name)) continue;
        await this.#snapshotter.remove(s.name);
        snapshots.splice(snapshots.indexOf(s), 1);
        removed = true;
        break;
      }
    }
    return deleted;
  }

  /** The image's record, names, manifest and config. */
  async details(image: string): Promise<ImageDetails> {
    const found = findImage(this.#images, image);
    const manifestBytes = await this.readBlob(found.record.manifestDigest);
    const parsed = parseManifest(manifestBytes, undefined);
    if (parsed.kind !== "manifest") throw new FailedPreconditionError(`image ${image}: ${found.record.manifestDigest} is not an image manifest`);
    const config = JSON.parse((await this.readBlob(parsed.body.config.digest)).toString("utf8")) as ImageConfig;
    return { record: found.record, names: found.all.map((r) => r.name), manifest: parsed.body, config };
  }

  /** `docker image inspect`'s view of an image. */
  async inspect(image: string): Promise<Record<string, unknown>> {
    const d = await this.details(image);
    const tags = d.names.filter((n) => !n.includes("@")).map((n) => familiarString(parseDockerRef(n)));
    const digests = [...new Set(d.names.flatMap((n) => {
      const r = this.#images.get(n) ?? d.record;
      return hasRepoDigest(r.labels) ? [`${familiarName(parseNormalizedNamed(parseDockerRef(n).name))}@${r.target.digest}`] : [];
    }))].sort();
    return {
      Id: d.record.configDigest,
      RepoTags: tags,
      RepoDigests: digests,
      Created: d.config.created ?? "",
      Architecture: d.config.architecture,
      Os: d.config.os,
      ...(d.config.variant ? { Variant: d.config.variant } : {}),
      Size: d.record.size,
      Config: d.config.config ?? {},
      RootFS: { Type: d.config.rootfs.type, Layers: d.config.rootfs.diff_ids },
      Metadata: { LastTagTime: new Date(d.record.updatedAt).toISOString() },
    };
  }

  /** One row per history step, newest first, with the size of the layer it made. */
  async history(image: string): Promise<{ id: string; created: string; createdBy: string; size: number; comment: string }[]> {
    const d = await this.details(image);
    const rows: { id: string; created: string; createdBy: string; size: number; comment: string }[] = [];
    const history: HistoryEntry[] = d.config.history ?? d.manifest.layers.map(() => ({}));
    let layer = 0;
    for (const h of history) {
      const empty = h.empty_layer === true;
      const size = empty ? 0 : d.manifest.layers[layer++]?.size ?? 0;
      rows.push({ id: "<missing>", created: h.created ?? "", createdBy: h.created_by ?? "", size, comment: h.comment ?? "" });
    }
    const top = rows[rows.length - 1];
    if (top) top.id = d.record.configDigest;
    return rows.reverse();
  }
}
