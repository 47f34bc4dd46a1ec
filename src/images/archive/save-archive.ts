/**
 * `podyard save`: writes images to a tar, streaming every blob from the content store.
 *
 * - `oci-archive`: a tar of an OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`).
 *   `index.json` lists each image's target as pulled (manifest or index), annotated with its
 *   full name (`org.opencontainers.image.ref.name`, which `podman load` names the image after,
 *   and `io.containerd.image.name`). When an index's other platforms were never pulled, the
 *   platform manifest is the target instead, as `docker save` does.
 * - `docker-archive`: `docker save`'s format: `manifest.json`, `<config hex>.json`, every layer
 *   uncompressed as `<diffID hex>/layer.tar`, and `repositories` for old clients.
 *
 * Everything is checked before the output is opened; a file output is written to a
 * temporary name and renamed into place, so a failed save leaves nothing behind. No byte
 * goes out unchecked: every blob's size is checked first, and its digest as it streams (a
 * docker-archive's layers also by their diffID); a stored blob that does not match fails
 * the save, naming the image and the blob.
 */
import { open, rename, rm, stat } from "node:fs/promises";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../errdefs/index.js";
import {
  Digester, MediaType, REF_NAME_ANNOTATION, digestAlgorithm, digestEncoded, isIndexMediaType, isManifestMediaType, parseManifest,
  type Descriptor, type Digest, type ImageConfig,
} from "../../oci/index.js";
import { fileError, noSpaceError, removeOnExit, tempPathFor } from "../../fsutil/index.js";
import { familiarName, familiarString, parseDockerRef } from "../../reference/index.js";
import { corruptBlobError, hashBlob, matchesBlob, verifiedStream, type BlobProvider, type ImageRecord } from "../../store/index.js";
import { TarWriter, decompressed, drainInto, readSmallBlob, tap } from "./archive-streams.js";
import { CONTAINERD_IMAGE_NAME_ANNOTATION, type ArchiveFormat, type ArchiveImageService } from "./archive-types.js";

export interface SaveOptions {
  format: ArchiveFormat;
}

/** One image to save: its record and the name it goes under (none when named by image ID). */
interface SaveItem {
  name?: string;
  record: ImageRecord;
}

const MAX_DEPTH = 4;

function resolveItems(service: ArchiveImageService, names: readonly string[]): SaveItem[] {
  if (names.length === 0) throw new InvalidArgumentError("save: name at least one image to save");
  const items: SaveItem[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    const found = service.find(n);
    const name = found.byID ? undefined : found.record.name;
    const key = `${name ?? ""} ${found.record.configDigest}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push({ ...(name !== undefined ? { name } : {}), record: found.record });
  }
  return items;
}

/** Writes the tar that `feed` produces to `out`: a file (via a temporary name) or a stream (left open). */
async function writeArchive(out: string | Writable, feed: (tar: TarWriter) => Promise<void>): Promise<void> {
  const run = async (dest: Writable, end: boolean): Promise<void> => {
    const tar = new TarWriter();
    const writing = pipeline(tar.readable, dest, { end });
    const feeding = (async () => {
      await feed(tar);
      tar.finalize();
    })();
    feeding.catch((err: unknown) => tar.destroy(err instanceof Error ? err : new Error(String(err))));
    await Promise.all([feeding, writing]);
  };
  if (typeof out !== "string") return run(out, false);
  const cannot = `cannot write ${out}`;
  if ((await stat(out).catch(() => undefined))?.isDirectory()) throw new InvalidArgumentError(`${cannot}: it is a directory`);
  const tmp = tempPathFor(out);
  // opened here, so a missing or unwritable directory fails naming `out`, not the temporary name
  const file = await open(tmp, "w").catch((err: unknown) => {
    throw fileError(err, out, cannot);
  });
  const forget = removeOnExit(tmp); // a half-written archive goes even when a signal ends the process
  try {
    await run(file.createWriteStream({ flush: true }), true);
    await rename(tmp, out).catch((err: unknown) => {
      throw fileError(err, out, cannot);
    });
  } catch (err) {
    await file.close().catch(() => {});
    await rm(tmp, { force: true });
    throw noSpaceError(err, out); // the output is the one file written: a full disk is its
  } finally {
    forget();
  }
}

// ---- oci-archive ----------------------------------------------------------------

/** Fails naming `what` and the blob when the stored blob is not `desc.size` bytes long. */
async function checkSize(content: BlobProvider, desc: Descriptor, what: string): Promise<void> {
  const info = await content.info(desc.digest);
  if (!info) throw new NotFoundError(`${what}: blob ${desc.digest} is not in the content store`);
  if (info.size !== desc.size) throw corruptBlobError(desc, await hashBlob(content, desc.digest), { what });
}

/** Every blob reachable from `desc`, `desc` first (sizes checked), or the first one missing from the store. */
async function reachable(content: BlobProvider, desc: Descriptor, what: string, depth = 0): Promise<{ blobs: Descriptor[] } | { missing: Digest }> {
  if (!(await content.info(desc.digest))) return { missing: desc.digest };
  await checkSize(content, desc, what);
  if (!isIndexMediaType(desc.mediaType) && !isManifestMediaType(desc.mediaType)) return { blobs: [desc] };
  if (depth > MAX_DEPTH) throw new InvalidArgumentError(`${desc.digest}: image indexes nested deeper than ${MAX_DEPTH}`);
  const parsed = parseManifest(await readSmallBlob(content, desc.digest, { what }), desc.mediaType);
  const children = parsed.kind === "index" ? parsed.body.manifests : [parsed.body.config, ...parsed.body.layers];
  const blobs = [desc];
  for (const child of children) {
    const r = await reachable(content, child, what, depth + 1);
    if ("missing" in r) return r;
    blobs.push(...r.blobs);
  }
  return { blobs };
}

interface OciPlan {
  manifests: Descriptor[];
  /** each blob once, with the first image that has it (for errors) */
  blobs: { desc: Descriptor; what: string }[];
}

async function planOci(content: BlobProvider, items: readonly SaveItem[]): Promise<OciPlan> {
  const manifests: Descriptor[] = [];
  const blobs = new Map<Digest, { desc: Descriptor; what: string }>();
  for (const { name, record } of items) {
    const what = `image ${name ?? record.configDigest}`;
    const whole = await reachable(content, record.target, what);
    let target: Descriptor = { mediaType: record.target.mediaType, digest: record.target.digest, size: record.target.size };
    let found = whole;
    if ("missing" in whole && record.manifestDigest !== record.target.digest) {
      // the index's other platforms were never pulled: save the platform manifest, as docker does
      const bytes = await readSmallBlob(content, record.manifestDigest, { what });
      target = { mediaType: parseManifest(bytes, undefined).mediaType, digest: record.manifestDigest, size: bytes.length };
      const platform = await platformOf(content, record, what);
      if (platform) target.platform = platform;
      found = await reachable(content, target, what);
    }
    if ("missing" in found) throw new NotFoundError(`${what}: blob ${found.missing} is not in the content store`);
    for (const b of found.blobs) if (!blobs.has(b.digest)) blobs.set(b.digest, { desc: b, what });
    if (name !== undefined) target.annotations = { [REF_NAME_ANNOTATION]: name, [CONTAINERD_IMAGE_NAME_ANNOTATION]: name };
    manifests.push(target);
  }
  return { manifests, blobs: [...blobs.values()] };
}

/** The platform the record's index gives its chosen manifest, if the index says. */
async function platformOf(content: BlobProvider, record: ImageRecord, what: string): Promise<Descriptor["platform"]> {
  if (!isIndexMediaType(record.target.mediaType) || !(await content.info(record.target.digest))) return undefined;
  const parsed = parseManifest(await readSmallBlob(content, record.target.digest, { what }), record.target.mediaType);
  if (parsed.kind !== "index") return undefined;
  return parsed.body.manifests.find((d) => d.digest === record.manifestDigest)?.platform;
}

async function writeOci(content: BlobProvider, plan: OciPlan, tar: TarWriter): Promise<void> {
  await tar.file("oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" })));
  await tar.dir("blobs");
  const algorithms = [...new Set(plan.blobs.map((b) => digestAlgorithm(b.desc.digest)))];
  for (const alg of algorithms) await tar.dir(`blobs/${alg}`);
  for (const { desc: b, what } of plan.blobs) {
    await checkSize(content, b, what);
    const path = `blobs/${digestAlgorithm(b.digest)}/${digestEncoded(b.digest)}`;
    const bytes = verifiedStream((await content.reader(b.digest)) as AsyncIterable<Buffer>, b, (got) => corruptBlobError(b, got, { what }));
    await tar.stream(path, b.size, bytes);
  }
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: plan.manifests };
  await tar.file("index.json", Buffer.from(JSON.stringify(index)));
}

// ---- docker-archive -------------------------------------------------------------

interface DockerImagePlan {
  /** the image, for errors */
  what: string;
  config: Descriptor;
  diffIDs: Digest[];
  layers: Descriptor[];
  repoTags: string[];
  /** familiar repository → tag, for `repositories` */
  tags: [string, string][];
}

async function planDocker(content: BlobProvider, items: readonly SaveItem[]): Promise<DockerImagePlan[]> {
  const byConfig = new Map<Digest, DockerImagePlan>();
  for (const { name, record } of items) {
    let plan = byConfig.get(record.configDigest);
    if (!plan) {
      const what = `image ${name ?? record.configDigest}`;
      if (!(await content.info(record.manifestDigest))) throw new NotFoundError(`${what}: manifest ${record.manifestDigest} is not in the content store`);
      const parsed = parseManifest(await readSmallBlob(content, record.manifestDigest, { what }), undefined);
      if (parsed.kind !== "manifest") throw new FailedPreconditionError(`${what}: ${record.manifestDigest} is not an image manifest`);
      const { config, layers } = parsed.body;
      for (const d of [config, ...layers]) await checkSize(content, d, what);
      const cfg = JSON.parse((await readSmallBlob(content, config.digest, { what })).toString("utf8")) as Partial<ImageConfig>;
      const diffIDs = cfg.rootfs?.diff_ids;
      if (!Array.isArray(diffIDs) || diffIDs.length !== layers.length) {
        throw new FailedPreconditionError(`${what}: config ${config.digest} must list one diff_id per layer (${layers.length})`);
      }
      plan = { what, config, diffIDs, layers, repoTags: [], tags: [] };
      byConfig.set(record.configDigest, plan);
    }
    if (name === undefined) continue;
    const ref = parseDockerRef(name);
    if (ref.tag === undefined || ref.digest !== undefined) continue; // a digest name cannot be a RepoTag
    const repoTag = familiarString(ref);
    if (!plan.repoTags.includes(repoTag)) {
      plan.repoTags.push(repoTag);
      plan.tags.push([familiarName(ref), ref.tag]);
    }
  }
  return [...byConfig.values()];
}

/**
 * The layer's bytes, uncompressed. The stored bytes are digested on the way: when they
 * do not match the layer's digest (or fail to decompress because they are corrupt), the
 * stream fails naming `what` and the blob. (A mismatch can also mean the decompressor
 * stopped before the end, so the blob is then hashed whole before it is called corrupt.)
 */
async function* openLayer(content: BlobProvider, layer: Descriptor, what: string): AsyncGenerator<Buffer> {
  const raw = new Digester(digestAlgorithm(layer.digest));
  try {
    yield* (await decompressed(tap(raw)((await content.reader(layer.digest)) as AsyncIterable<Buffer>))).stream;
  } catch (err) {
    await checkIntact(content, layer, what, err);
    throw err;
  }
  if (!matchesBlob({ digest: raw.digest(), size: raw.size }, layer)) await checkIntact(content, layer, what);
}

/** Throws corruptBlobError when the stored blob does not hash to `desc`; `cause`, what failed while reading it. */
async function checkIntact(content: BlobProvider, desc: Descriptor, what: string, cause?: unknown): Promise<void> {
  const got = await hashBlob(content, desc.digest);
  if (!matchesBlob(got, desc)) throw corruptBlobError(desc, got, { what, ...(cause !== undefined ? { cause } : {}) });
}

/** The uncompressed size of `layer`, checked against its diffID. */
async function uncompressedSize(content: BlobProvider, layer: Descriptor, diffID: Digest, what: string): Promise<number> {
  if (layer.digest === diffID) return layer.size; // already uncompressed (its size checked by planDocker)
  const d = new Digester(digestAlgorithm(diffID));
  await drainInto(openLayer(content, layer, what), d);
  if (d.digest() !== diffID) {
    throw new FailedPreconditionError(`layer ${layer.digest} uncompresses to ${d.digest()}, but the image config's diff_id is ${diffID}`);
  }
  return d.size;
}

async function writeDocker(content: BlobProvider, plans: readonly DockerImagePlan[], tar: TarWriter): Promise<void> {
  const written = new Set<string>();
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const plan of plans) {
    const layerFiles: string[] = [];
    for (const [i, layer] of plan.layers.entries()) {
      const diffID = plan.diffIDs[i] as Digest;
      const dir = digestEncoded(diffID);
      const file = `${dir}/layer.tar`;
      layerFiles.push(file);
      if (written.has(file)) continue;
      written.add(file);
      const size = await uncompressedSize(content, layer, diffID, plan.what);
      const check = new Digester(digestAlgorithm(diffID));
      await tar.dir(dir);
      await tar.stream(file, size, tap(check)(openLayer(content, layer, plan.what)));
      if (check.digest() !== diffID) throw new FailedPreconditionError(`layer ${layer.digest} changed while it was saved (${check.digest()}, expected ${diffID})`);
    }
    const configFile = `${digestEncoded(plan.config.digest)}.json`;
    if (!written.has(configFile)) {
      written.add(configFile);
      await tar.file(configFile, await readSmallBlob(content, plan.config.digest, { what: plan.what }));
    }
    manifest.push({ Config: configFile, RepoTags: plan.repoTags, Layers: layerFiles });
    const top = plan.diffIDs[plan.diffIDs.length - 1];
    if (top !== undefined) {
      for (const [repo, tag] of plan.tags) (repositories[repo] ??= {})[tag] = digestEncoded(top);
    }
  }
  await tar.file("manifest.json", Buffer.from(JSON.stringify(manifest)));
  if (Object.keys(repositories).length > 0) await tar.file("repositories", Buffer.from(JSON.stringify(repositories)));
}

/**
 * Saves the images `names` (references or image IDs) as one archive at `out`, a file
 * path (written to a temporary file, then renamed) or a stream (not ended).
 */
export async function saveImages(service: ArchiveImageService, names: readonly string[], out: string | Writable, opts: SaveOptions): Promise<void> {
  const items = resolveItems(service, names);
  const content = service.content;
  if (opts.format === "oci-archive") {
    const plan = await planOci(content, items);
    return writeArchive(out, (tar) => writeOci(content, plan, tar));
  }
  if (opts.format === "docker-archive") {
    const plans = await planDocker(content, items);
    return writeArchive(out, (tar) => writeDocker(content, plans, tar));
  }
  throw new InvalidArgumentError(`unknown archive format ${JSON.stringify(opts.format)}: want oci-archive or docker-archive`);
}
