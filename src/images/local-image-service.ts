/**
 * The node's images: pull, push, name, untag, remove and prune, over the content store,
 * the image records and the snapshotter. Each operation lives in its own file; this class
 * holds the stores and puts the steps in order. The kubelet reaches it through the
 * CRI-shaped `ImageService` (cri-image-service.ts); docker's views of it live in src/cli.
 */
import { createHash } from "node:crypto";
import { FailedPreconditionError, InvalidArgumentError } from "../errdefs/index.js";
import { parseManifest, type Digest, type ImageConfig, type ImageManifest } from "../oci/index.js";
import { parseDockerRef } from "../reference/index.js";
import { chainID, isDangling, WorkerLayerApplier, type ContentStore, type ImageRecord, type ImageStore, type Snapshotter } from "../store/index.js";
import { BlobFetcher } from "./blob-fetcher.js";
import { findImage, type FoundImage } from "./find-image.js";
import { LOCAL_MANIFEST_LABEL, NEEDS_PULL_LABEL, hasRepoDigest } from "./image-labels.js";
import { SingleFlight } from "../concurrency/index.js";
import { keepImage, nameImage } from "./image-names.js";
import { layerSnapshots, unpackedSize } from "./image-layers.js";
import { pullImage } from "./pull-image.js";
import { pushImage, type PushEvent } from "./push-image.js";
import { registerImage, type RegisterOptions } from "./register-image.js";
import type { PullOptions, PullResult, RegistryCredentials, RegistryResolver } from "./types.js";

export interface LocalImageServiceOptions {
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
  /** the image's names; none for a dangling image */
  names: string[];
  manifest: ImageManifest;
  config: ImageConfig;
}

/** Pull options with the credentials of this one pull (a pod's pull secret). */
export interface LocalPullOptions extends PullOptions {
  credentials?: RegistryCredentials;
}

export class LocalImageService {
  readonly #content: ContentStore;
  readonly #images: ImageStore;
  readonly #snapshotter: Snapshotter;
  readonly #resolver: RegistryResolver;
  readonly #fetcher: BlobFetcher;
  readonly #pulls = new SingleFlight<PullResult>();
  readonly #inUse: (configDigest: Digest) => boolean;
  readonly #ingestTtlMs: number;
  readonly #applier: WorkerLayerApplier | undefined;
  #upgraded: Promise<void> | undefined;

  constructor(opts: LocalImageServiceOptions) {
    this.#content = opts.content;
    this.#images = opts.images;
    this.#snapshotter = opts.snapshotter;
    this.#resolver = opts.resolver;
    this.#fetcher = new BlobFetcher(opts.content, { concurrency: opts.concurrency ?? 3 });
    this.#inUse = opts.inUse ?? (() => false);
    this.#ingestTtlMs = opts.ingestTtlMs ?? 24 * 3600_000;
    this.#applier = opts.unpackInWorker === false ? undefined : new WorkerLayerApplier();
  }

  /**
   * Pulls `image`; concurrent pulls of one reference (with the same credentials) share one
   * pull. `opts.credentials` are used for the image's registry for this pull only.
   */
  async pull(image: string, opts: LocalPullOptions = {}): Promise<PullResult> {
    const ref = parseDockerRef(image);
    const { credentials, ...pullOpts } = opts;
    const who = credentials === undefined ? "" : createHash("sha256").update(`${credentials.username}\n${credentials.password}`).digest("hex");
    const key = `${ref.toString()} ${JSON.stringify(opts.platform ?? null)} ${who}`;
    this.#applier?.warm();
    return this.#pulls.do(key, () => pullImage({
      fetcher: this.#fetcher,
      images: this.#images,
      snapshotter: this.#snapshotter,
      readBlob: (d) => this.readBlob(d),
      openBlob: (d) => this.#content.reader(d),
      ...(this.#applier ? { applier: this.#applier.apply } : {}),
    }, this.#resolver.puller(ref, credentials === undefined ? {} : { credentials }), ref, pullOpts));
  }

  async push(image: string, opts: { onProgress?: (e: PushEvent) => void } = {}): Promise<{ name: string; digest: Digest; size: number }> {
    const ref = parseDockerRef(image);
    const { record } = findImage(this.#images, image);
    const result = await pushImage({
      readBlob: (d) => this.readBlob(d),
      openBlob: (d) => this.#content.reader(d),
      hasBlob: async (d) => (await this.#content.info(d)) !== undefined,
      mountSources: async () => this.#images.list()
        .filter((r) => !isDangling(r) && parseDockerRef(r.name).domain === ref.domain)
        .map((r) => parseDockerRef(r.name).path),
    }, await this.#resolver.pusher(ref), { ref, record, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
    // the registry now knows the digest in this repository: it is a repo digest of the name
    const pushed = this.#images.get(ref.toString());
    if (pushed !== undefined && pushed.target.digest === result.digest && !hasRepoDigest(pushed.labels)) {
      const { [LOCAL_MANIFEST_LABEL]: _local, ...labels } = pushed.labels;
      this.#images.put({ ...pushed, labels });
    }
    return { name: ref.toString(), ...result };
  }

  /** Stops the extraction worker. */
  async close(): Promise<void> {
    await this.#applier?.close();
  }

  /**
   * Fills in what records from before podyard kept it lack: the top chain ID (from the
   * config's diff_ids) and the unpacked size (from the snapshots). Runs once; later calls
   * wait for that run. Reading commands run it too, under the shared home lock: a record
   * it cannot write (a full disk) stays as it was, and views fall back to what it has.
   */
  upgradeRecords(): Promise<void> {
    this.#upgraded ??= (async () => {
      const done = new Set<Digest>();
      for (const r of this.#images.list()) {
        if ((r.chainID !== undefined && r.unpackedSize !== undefined) || done.has(r.configDigest)) continue;
        done.add(r.configDigest);
        let top = r.chainID;
        if (top === undefined) {
          try {
            const parsed = parseManifest(await this.readBlob(r.manifestDigest), undefined);
            if (parsed.kind !== "manifest") continue;
            const config = JSON.parse((await this.readBlob(parsed.body.config.digest)).toString("utf8")) as ImageConfig;
            top = chainID(config.rootfs.diff_ids);
          } catch {
            continue; // a record whose blobs are gone: fsck reports it
          }
        }
        const chains = await layerSnapshots(this.#snapshotter, top);
        const size = chains[chains.length - 1] === top ? await unpackedSize({ images: this.#images, snapshotter: this.#snapshotter }, r.configDigest, chains) : undefined;
        try {
          this.#images.setUnpacked(r.configDigest, { chainID: top, ...(size !== undefined ? { unpackedSize: size } : {}) });
        } catch {
          // a full disk, or another reader upgrading the same record: the next command tries again
        }
      }
    })();
    return this.#upgraded;
  }

  /** Names an image whose blobs are already stored (load, import, build), unpacking its layers. */
  async register(opts: RegisterOptions): Promise<ImageRecord[]> {
    return registerImage({ content: this.#content, images: this.#images, snapshotter: this.#snapshotter, readBlob: (d) => this.readBlob(d) }, opts);
  }

  /** The content store, for archives that read and write blobs directly. */
  get content(): ContentStore {
    return this.#content;
  }

  /** The snapshotter the image layers are unpacked into. */
  get snapshotter(): Snapshotter {
    return this.#snapshotter;
  }

  async readBlob(d: Digest): Promise<Buffer> {
    return this.#fetcher.readBlob(d);
  }

  find(image: string): FoundImage {
    return findImage(this.#images, image);
  }

  /** Every record: one per name, and one per dangling image. */
  list(): ImageRecord[] {
    return this.#images.list();
  }

  /**
   * The image's repo digests (`repository@digest`, one per repository it was pulled or
   * tagged in), leaving out names whose manifest was made on this node (a docker-archive
   * load): no registry knows that digest.
   */
  repoDigests(configDigest: Digest): string[] {
    return this.#images.repoDigests(configDigest, { exceptLabel: LOCAL_MANIFEST_LABEL });
  }

  /** True when `fsck --repair` removed content the image needs: it is there again only after a pull. */
  needsPull(configDigest: Digest): boolean {
    return this.#images.byConfigDigest(configDigest).some((r) => r.labels[NEEDS_PULL_LABEL] !== undefined);
  }

  /** Whether a container uses the image. */
  inUse(configDigest: Digest): boolean {
    return this.#inUse(configDigest);
  }

  /**
   * Gives the image `source` names another name; the image `target` named before is left
   * dangling if that was its last name. A digest reference is refused, as docker does: a
   * tag cannot make a digest true.
   */
  tag(source: string, target: string): ImageRecord {
    const { record } = findImage(this.#images, source);
    const ref = parseDockerRef(target);
    if (ref.digest !== undefined) throw new InvalidArgumentError("refusing to create a tag with a digest reference");
    // A registry knows the manifest's digest in the repository it came from: under a name in
    // another repository it is no repo digest (docker lists only repositories pulled or
    // pushed) until a push of that name puts it there.
    const sameRepository = !isDangling(record) && parseDockerRef(record.name).name === ref.name;
    const labels = sameRepository ? record.labels : { ...record.labels, [LOCAL_MANIFEST_LABEL]: "tag" };
    return nameImage(this.#images, { ...record, labels, name: ref.toString() });
  }

  /**
   * Removes the records `names` (names of one image, or its dangling record). When the
   * image has no record left its blobs and snapshots go too (unless another image shares
   * them); returns what was untagged and the blobs deleted. An image a container uses that
   * loses its last name stays as dangling (docker's `<none>` after `rmi -f`), so that no
   * later prune takes its content; removing that dangling record lets it go.
   */
  async untag(names: readonly string[]): Promise<RemoveResult> {
    const untagged: string[] = [];
    const last = new Map<Digest, ImageRecord>();
    for (const name of names) {
      const r = this.#images.get(name);
      if (r === undefined) continue;
      this.#images.delete(name);
      last.set(r.configDigest, r);
      if (!isDangling(r)) untagged.push(name);
    }
    for (const [id, r] of last) if (!isDangling(r) && this.#inUse(id)) keepImage(this.#images, r);
    const gone = [...last.keys()].filter((id) => this.#images.byConfigDigest(id).length === 0);
    const deleted = gone.length > 0 && gone.some((id) => !this.#inUse(id)) ? await this.prune() : [];
    return { untagged, deleted };
  }

  /**
   * Deletes what no image record needs: blobs (manifests, configs, layers) and committed
   * snapshots under no image's top chain ID. Returns the deleted blobs' digests.
   */
  async prune(): Promise<Digest[]> {
    await this.upgradeRecords();
    const liveBlobs = new Set<Digest>();
    const tops = new Set<string>();
    for (const r of this.#images.list()) {
      liveBlobs.add(r.target.digest);
      if (r.chainID !== undefined) tops.add(r.chainID);
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
    const liveChains = new Set<string>();
    for (const top of tops) {
      for (let s = snapshots.find((x) => x.name === top); s !== undefined && !liveChains.has(s.name); s = snapshots.find((x) => x.name === s?.parent)) liveChains.add(s.name);
    }
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
    // the config is read beside the manifest: the record names it (the image ID)
    const configRead = this.readBlob(found.record.configDigest);
    configRead.catch(() => undefined); // awaited below, once the manifest is checked
    const manifestBytes = await this.readBlob(found.record.manifestDigest);
    const parsed = parseManifest(manifestBytes, undefined);
    if (parsed.kind !== "manifest") throw new FailedPreconditionError(`image ${image}: ${found.record.manifestDigest} is not an image manifest`);
    const configBytes = parsed.body.config.digest === found.record.configDigest ? await configRead : await this.readBlob(parsed.body.config.digest);
    const config = JSON.parse(configBytes.toString("utf8")) as ImageConfig;
    return { record: found.record, names: found.all.filter((r) => !isDangling(r)).map((r) => r.name), manifest: parsed.body, config };
  }
}
