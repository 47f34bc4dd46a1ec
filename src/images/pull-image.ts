/**
 * Pulling one image: resolve the reference, choose this node's manifest from an
 * index, fetch config and layers into the content store (3 at a time), unpack each
 * layer once into a snapshot keyed by its chain ID (two at a time, each following its
 * download as the bytes arrive), and record the name. Every byte is checked against its digest before it is kept.
 *
 * What the pull finds already stored it checks before relying on it: manifests and the
 * config (small) are hashed when first read, and kept in memory while their file is
 * unchanged (small-blobs.ts); a layer blob must have its descriptor's size and hash to
 * its digest, re-read only when the file changed since it was last found intact
 * (BlobFetcher.checkStored). A stored blob that fails is deleted and
 * fetched again, and the pull then reports a download, never "up to date".
 */
import { FailedPreconditionError, InvalidArgumentError } from "../errdefs/index.js";
import { parseManifest, type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest, type Platform } from "../oci/index.js";
import type { Reference } from "../reference/index.js";
import { hostPlatform, selectManifest } from "../oci/index.js";
import { applyInThread, unpackLayers, type ImageRecord, type ImageRecordInput, type ImageStore, type LayerApplier, type Snapshotter, type UnpackLayer } from "../store/index.js";
import type { BlobFetcher } from "./blob-fetcher.js";
import { nameImage } from "./image-names.js";
import { topChain, unpackedSize } from "./image-layers.js";
import { NEEDS_PULL_LABEL } from "./image-labels.js";
import type { LayerStatus, PullClient, PullOptions, PullResult } from "./types.js";

export interface PullDeps {
  fetcher: BlobFetcher;
  images: ImageStore;
  snapshotter: Snapshotter;
  readBlob(digest: Digest): Promise<Buffer>;
  openBlob(digest: Digest): Promise<AsyncIterable<Uint8Array>>;
  /** where layers are extracted (default: this thread) */
  applier?: LayerApplier;
}

const MAX_INDEX_DEPTH = 4;

/** What fetching an image's manifests and config needs (the download-only bench uses these steps too). */
export type FetchDeps = Pick<PullDeps, "fetcher" | "readBlob">;

/** The platform manifest, its bytes, and the descriptor the reference points at. */
export interface Resolved {
  root: Descriptor;
  manifest: Descriptor;
  body: ImageManifest;
}

/**
 * `stores` collects the writes of what is fetched from the registry into the content store
 * (it stays empty when everything came from the store): the pull goes on with the bytes in
 * hand and waits for the writes before it records the image.
 */
export async function resolveManifest(deps: FetchDeps, client: PullClient, ref: Reference, platform: Platform, stores: Promise<void>[]): Promise<Resolved> {
  const wanted = ref.digest ?? ref.tag ?? "latest";
  const root = await client.resolve(wanted);
  if (ref.digest && root.digest !== ref.digest) {
    throw new FailedPreconditionError(`registry answered ${root.digest} for ${ref.toString()}`);
  }
  let desc = root;
  for (let depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
    const bytes = await fetchManifestBytes(deps, client, desc, stores);
    const parsed = parseManifest(bytes, desc.mediaType);
    if (parsed.kind === "manifest") return { root, manifest: { ...desc, mediaType: parsed.mediaType, size: bytes.length }, body: parsed.body };
    desc = selectManifest(parsed.body as ImageIndex, platform, { digest: desc.digest });
  }
  throw new InvalidArgumentError(`${ref.toString()}: image indexes nested deeper than ${MAX_INDEX_DEPTH}`);
}

/** Writes bytes already checked against `desc` to the content store in the background; the write joins `stores`. */
function storeLater(deps: FetchDeps, stores: Promise<void>[], desc: Descriptor, bytes: Buffer): void {
  const stored = deps.fetcher.put(desc, bytes);
  stored.catch(() => undefined); // awaited by the pull before it records the image
  stores.push(stored);
}

async function fetchManifestBytes(deps: FetchDeps, client: PullClient, desc: Descriptor, stores: Promise<void>[]): Promise<Buffer> {
  const stored = await deps.fetcher.readStored(desc.digest);
  if (stored !== undefined) return stored;
  const m = await client.getManifest(desc.digest);
  if (m.digest !== desc.digest) throw new FailedPreconditionError(`manifest ${desc.digest} came back as ${m.digest}`);
  storeLater(deps, stores, { ...desc, size: m.bytes.length }, m.bytes);
  return m.bytes;
}

/** Configs up to this size are read into memory straight from the registry. */
const CONFIG_IN_MEMORY_BYTES = 8 << 20;

/**
 * The config's bytes: from the store, or from the registry, checked against its digest
 * and written to the content store in the background (like the manifests, into `stores`),
 * so the unpack need not wait for that write.
 */
export async function fetchConfig(deps: FetchDeps, client: PullClient, desc: Descriptor, stores: Promise<void>[]): Promise<Buffer> {
  const stored = await deps.fetcher.readStored(desc.digest);
  if (stored !== undefined) return stored;
  if (desc.size > CONFIG_IN_MEMORY_BYTES) {
    const fetching = deps.fetcher.fetch(client, desc);
    stores.push(fetching);
    await fetching;
    return deps.readBlob(desc.digest);
  }
  const chunks: Buffer[] = [];
  for await (const c of await client.fetchBlob(desc.digest, { size: desc.size })) chunks.push(c as Buffer); // verified: size and digest
  const bytes = Buffer.concat(chunks);
  storeLater(deps, stores, desc, bytes);
  return bytes;
}

export function parseConfig(bytes: Buffer, where: string): ImageConfig {
  let config: unknown;
  try {
    config = JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`${where}: image config is not valid JSON: ${(err as Error).message}`);
  }
  const c = config as Partial<ImageConfig>;
  if (!c || typeof c !== "object" || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) {
    throw new InvalidArgumentError(`${where}: image config has no rootfs.diff_ids`);
  }
  return c as ImageConfig;
}

/**
 * True when `record` already says what `input` would store: the same target, manifest,
 * config, sizes and layers, and no labels (a pull's record has none: it drops a tag's
 * local-manifest mark and fsck's needs-pull mark).
 */
function sameRecord(record: ImageRecord, input: ImageRecordInput): boolean {
  return record.target.digest === input.target.digest && record.target.mediaType === input.target.mediaType && record.target.size === input.target.size
    && record.configDigest === input.configDigest && record.manifestDigest === input.manifestDigest && record.size === input.size
    && record.chainID === input.chainID && record.unpackedSize === input.unpackedSize && record.created === input.created
    && Object.keys(record.labels).length === 0;
}

export async function pullImage(deps: PullDeps, client: PullClient, ref: Reference, opts: PullOptions = {}): Promise<PullResult> {
  const platform = opts.platform ?? hostPlatform();
  const progress = opts.onProgress ?? (() => {});
  const stores: Promise<void>[] = [];
  let resolved: Resolved;
  try {
    resolved = await resolveManifest(deps, client, ref, platform, stores);
  } catch (err) {
    await Promise.allSettled(stores);
    throw err;
  }
  const { root, manifest, body } = resolved;
  progress({ kind: "resolved", ref: ref.toString(), digest: root.digest, layers: body.layers });

  // The config and the layers download together (containerd's dispatch does the same): the
  // config is needed only once the first layer is ready to be unpacked.
  const configFetch = fetchConfig(deps, client, body.config, stores);
  configFetch.catch(() => undefined); // awaited below, after the layers are under way

  // As docker: layers already here say "Already exists"; an image with nothing to fetch prints no layer lines.
  // (a stored layer that fails its check is deleted here, and counts as absent)
  const present = await Promise.all(body.layers.map((l) => deps.fetcher.checkStored(l)));
  const quiet = present.every(Boolean);
  const layerEvent = (digest: Digest, status: LayerStatus, current?: number, total?: number): void => {
    if (!quiet) progress({ kind: "layer", digest, status, ...(current !== undefined ? { current } : {}), ...(total !== undefined ? { total } : {}) });
  };
  body.layers.forEach((l, i) => layerEvent(l.digest, present[i] ? "Already exists" : "Pulling fs layer"));
  const downloads = body.layers.map((l, i) =>
    present[i] ? Promise.resolve() : deps.fetcher.fetch(client, l, (status, current, total) => layerEvent(l.digest, status, current, total)));
  const completed = new Set<number>();
  const complete = (i: number): void => {
    const l = body.layers[i];
    if (l && !present[i] && !completed.has(i)) {
      completed.add(i);
      layerEvent(l.digest, "Pull complete");
    }
  };
  // Settle every download even when one fails, so none is left running unobserved.
  // (the config's write joins `stores` once its bytes are in)
  const settled = Promise.allSettled([configFetch, ...downloads]).then(async (fetched) => [...fetched, ...(await Promise.allSettled(stores))]);
  let config: ImageConfig;
  let chains: Digest[];
  try {
    config = parseConfig(await configFetch, `${ref.toString()} config ${body.config.digest}`);
    const diffIDs = config.rootfs.diff_ids;
    if (diffIDs.length !== body.layers.length) {
      throw new InvalidArgumentError(`${ref.toString()}: manifest has ${body.layers.length} layers but its config lists ${diffIDs.length} diff_ids`);
    }
    // Each layer is extracted as it downloads, from the growing blob (see BlobFetcher.feed);
    // a layer stored before is read from the content store.
    const layers: UnpackLayer[] = body.layers.map((descriptor) => ({
      descriptor,
      open: () => deps.openBlob(descriptor.digest),
    }));
    const applier = deps.applier ?? applyInThread;
    chains = await unpackLayers({
      snapshotter: deps.snapshotter,
      diffIDs,
      layers,
      apply: async (dir, layer, o) => {
        const i = layers.indexOf(layer);
        layerEvent(layer.descriptor.digest, "Extracting");
        const feed = present[i] ? undefined : await deps.fetcher.feed(layer.descriptor);
        const applied = await applier(dir, feed === undefined ? layer : { ...layer, feed: () => Promise.resolve(feed) }, o);
        await downloads[i];
        complete(i);
        return applied;
      },
    });
    for (const r of await settled) if (r.status === "rejected") throw r.reason;
  } catch (err) {
    await settled;
    throw err;
  }
  body.layers.forEach((_, i) => complete(i));

  const name = ref.toString();
  const previous = deps.images.get(name);
  const size = body.config.size + body.layers.reduce((n, l) => n + l.size, 0);
  const input: ImageRecordInput = {
    name,
    target: { mediaType: root.mediaType, digest: root.digest, size: root.size },
    configDigest: body.config.digest,
    manifestDigest: manifest.digest,
    size,
    ...topChain(chains),
    unpackedSize: await unpackedSize(deps, body.config.digest, chains),
    ...(config.created !== undefined ? { created: config.created } : {}),
  };
  // A pull that found the image as recorded leaves the record alone: a write is an fsynced
  // SQLite commit on the event loop (~1 ms), for every Always pull of an unchanged image.
  if (previous === undefined || !sameRecord(previous, input)) nameImage(deps.images, input);
  // "Downloaded newer image" when anything came from the registry, the name now points at
  // another manifest (a new tag, another platform of an index), or fsck marked it for a pull.
  const downloaded = stores.length > 0 || !quiet || previous === undefined || previous.target.digest !== root.digest
    || previous.manifestDigest !== manifest.digest || previous.labels[NEEDS_PULL_LABEL] !== undefined;
  return { name, digest: root.digest, configDigest: body.config.digest, downloaded };
}

