/**
 * `podyard load`: reads an image archive (plain or gzip/zstd-compressed tar) made by
 * `podyard save`, `docker save`, `podman save` or `skopeo copy … oci-archive:|docker-archive:`.
 *
 * The tar's entries may come in any order, so every file streams into the content store
 * first, keyed by its path; files named by a digest (`blobs/sha256/<hex>`, `<hex>.json`) are
 * verified on the way in. Then the format decides what the blobs mean:
 * - an OCI layout (`oci-layout` and `index.json`): each `index.json` entry is an image, named
 *   by `io.containerd.image.name`, else by `org.opencontainers.image.ref.name` when that is a
 *   full reference; a bare tag (`latest`) gives no name and the image is reported by its ID;
 * - a docker archive (`manifest.json`): each entry's config and layers (stored as they are,
 *   uncompressed, and checked against the config's diff_ids) get an OCI manifest, and the
 *   image is named by its `RepoTags`. That manifest is made here, so its digest is no
 *   registry's: the records say so (LOCAL_MANIFEST_LABEL) and inspect shows no RepoDigests.
 * Every image is checked to be complete before any is registered, so a bad archive
 * registers nothing.
 */
import { createReadStream } from "node:fs";
import { posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Header } from "tar-stream";
import { InvalidArgumentError, NotFoundError, errnoCode, errorClass } from "../../errdefs/index.js";
import {
  Digester, MediaType, REF_NAME_ANNOTATION, digestAlgorithm, digestOf, isDigest, parseManifest, tarStream,
  type Descriptor, type Digest, type ImageConfig, type ImageIndex, type ImageManifest,
} from "../../oci/index.js";
import { fileError } from "../../fsutil/index.js";
import { parseDockerRef } from "../../reference/index.js";
import { hostPlatform, selectManifest } from "../../oci/index.js";
import type { ContentStore } from "../../store/index.js";
import { decompressed, drainInto, ingest, ingestBytes, ingestRef, readSmallBlob } from "./archive-streams.js";
import { CONTAINERD_IMAGE_NAME_ANNOTATION, type ArchiveImageService } from "./archive-types.js";
import { LOCAL_MANIFEST_LABEL } from "../image-labels.js";

export interface LoadedImage {
  /** the normalised names the image was registered under; empty when the archive names none */
  names: string[];
  /** what the names point at: the manifest or index */
  target: Descriptor;
  /** the image ID (config digest of the platform manifest) */
  id: Digest;
}

export interface LoadResult {
  /** every name registered, normalised (`docker.io/library/busybox:latest`) */
  names: string[];
  /** the image ID of every image loaded, in archive order */
  digests: Digest[];
  images: LoadedImage[];
}

/** Small files whose text decides the format; kept in memory. */
const METADATA = new Set(["manifest.json", "index.json", "oci-layout", "repositories"]);
const METADATA_LIMIT = 16 * 1024 * 1024;
/** Legacy per-layer files of docker's v1 format, not needed to load. */
const LEGACY = /(^|\/)(json|VERSION)$/;
const MAX_LINK_HOPS = 16;

interface Scanned {
  label: string;
  /** archive path → blob it holds */
  files: Map<string, { digest: Digest; size: number }>;
  metadata: Map<string, Buffer>;
  /** archive path → path it links to */
  links: Map<string, string>;
}

/** `./a//b/` → `a/b`; undefined for the archive root. */
function entryPath(name: string): string | undefined {
  const p = posix.normalize(`/${name}`).replace(/^\/+/, "").replace(/\/+$/, "");
  return p === "" || p === "." ? undefined : p;
}

/** The digest a path names: `blobs/<alg>/<hex>`, or docker's `<hex>.json` config. */
function digestNamedBy(path: string): Digest | undefined {
  const blob = /^blobs\/([a-z0-9]+)\/([a-f0-9]+)$/.exec(path);
  if (blob) {
    const d = `${blob[1] ?? ""}:${blob[2] ?? ""}`;
    return isDigest(d) ? d : undefined;
  }
  const config = /^([a-f0-9]{64})\.json$/.exec(path);
  return config ? (`sha256:${config[1] ?? ""}` as Digest) : undefined;
}

async function readEntry(entry: AsyncIterable<Buffer>, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of entry) {
    size += c.length;
    if (size > limit) throw new InvalidArgumentError(`${what}: larger than ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

async function storeEntry(content: ContentStore, scanned: Scanned, path: string, header: Header, entry: AsyncIterable<Buffer>): Promise<void> {
  const named = digestNamedBy(path);
  const size = header.size ?? 0;
  const stored = await ingest(content, entry, {
    ref: ingestRef("load"),
    ...(named ? { expected: { digest: named, size } } : {}),
    onMismatch: (actual, got) => new InvalidArgumentError(
      `archive ${scanned.label}: ${path}: digest mismatch: the file's content is ${actual} (${got} bytes), its name says ${named ?? "?"}`,
    ),
  });
  scanned.files.set(path, stored);
}

async function handleEntry(content: ContentStore, scanned: Scanned, header: Header, entry: AsyncIterable<Buffer>): Promise<void> {
  const path = entryPath(header.name);
  const drain = async (): Promise<void> => {
    for await (const _ of entry) { /* skip */ }
  };
  if (path === undefined) return drain();
  switch (header.type) {
    case "file":
    case "contiguous-file":
    case undefined:
    case null:
      break;
    case "symlink": {
      const target = header.linkname ?? "";
      const resolved = entryPath(target.startsWith("/") ? target : posix.join(posix.dirname(path), target));
      if (resolved !== undefined) scanned.links.set(path, resolved);
      return drain();
    }
    case "link": {
      const resolved = entryPath(header.linkname ?? "");
      if (resolved !== undefined) scanned.links.set(path, resolved);
      return drain();
    }
    default:
      return drain();
  }
  if (METADATA.has(path)) {
    scanned.metadata.set(path, await readEntry(entry, METADATA_LIMIT, `archive ${scanned.label}: ${path}`));
    return;
  }
  if (LEGACY.test(path)) return drain();
  await storeEntry(content, scanned, path, header, entry);
}

/** Streams every file of the archive into the content store. */
async function scan(content: ContentStore, source: AsyncIterable<Buffer>, label: string): Promise<Scanned> {
  const scanned: Scanned = { label, files: new Map(), metadata: new Map(), links: new Map() };
  const ex = tarStream().extract();
  const reading = (async () => {
    for await (const entry of ex) await handleEntry(content, scanned, entry.header, entry as AsyncIterable<Buffer>);
  })();
  let feeding: Promise<void> | undefined;
  try {
    // inside the try: sniffing the compression reads the first bytes, where a missing file or a directory fails
    const { stream } = await decompressed(source);
    feeding = pipeline(stream, ex);
    await Promise.all([reading, feeding]);
  } catch (err) {
    ex.destroy();
    await Promise.allSettled([reading, feeding]);
    if (errorClass(err) !== undefined) throw err;
    if (errnoCode(err) === "ENOENT") throw new NotFoundError(`archive ${label} not found`, { cause: err });
    if (errnoCode(err) === "EISDIR") throw new InvalidArgumentError(`archive ${label} is a directory; want a tar file`, { cause: err });
    // EACCES, EIO: the file, not its bytes
    if (/^E[A-Z0-9]+$/.test(errnoCode(err) ?? "")) throw fileError(err, label, `archive ${label}: cannot read it`);
    // tar-stream's and zlib's complaints about the bytes themselves
    throw new InvalidArgumentError(`archive ${label}: cannot read it as a tar: ${(err as Error).message}`, { cause: err });
  }
  return scanned;
}

function lookup(scanned: Scanned, path: string): { digest: Digest; size: number } | undefined {
  let p = entryPath(path);
  for (let hops = 0; p !== undefined && hops <= MAX_LINK_HOPS; hops++) {
    const file = scanned.files.get(p);
    if (file) return file;
    p = scanned.links.get(p);
  }
  return undefined;
}

function parseJSON(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`${what}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** An image ready to register: its target, its platform manifest's config digest, its names. */
interface Resolved {
  names: string[];
  target: Descriptor;
  id: Digest;
  /** labels for the image's records */
  labels?: Record<string, string>;
}

/** The platform manifest the image service will unpack, checked to be complete. */
async function completeImage(content: ContentStore, target: Descriptor, what: string): Promise<{ manifest: ImageManifest; id: Digest }> {
  let desc = target;
  for (let depth = 0; depth <= 4; depth++) {
    if (!(await content.info(desc.digest))) throw new NotFoundError(`${what}: blob ${desc.digest} is missing from the archive`);
    const parsed = parseManifest(await readSmallBlob(content, desc.digest), desc.mediaType);
    if (parsed.kind === "index") {
      desc = selectManifest(parsed.body as ImageIndex, hostPlatform(), { digest: desc.digest });
      continue;
    }
    for (const d of [parsed.body.config, ...parsed.body.layers]) {
      if (!(await content.info(d.digest))) throw new NotFoundError(`${what}: blob ${d.digest} is missing from the archive`);
    }
    const config = parseJSON(await readSmallBlob(content, parsed.body.config.digest), `${what}: config ${parsed.body.config.digest}`) as Partial<ImageConfig>;
    if (!Array.isArray(config.rootfs?.diff_ids) || config.rootfs.diff_ids.length !== parsed.body.layers.length) {
      throw new InvalidArgumentError(`${what}: config ${parsed.body.config.digest} must list one diff_id per layer (${parsed.body.layers.length})`);
    }
    return { manifest: parsed.body, id: parsed.body.config.digest };
  }
  throw new InvalidArgumentError(`${what}: image indexes nested deeper than 4`);
}

/** A full reference as given (`docker.io/library/bb:v1`, `quay.io/a/b@sha256:…`); undefined for a bare tag. */
function nameFromAnnotations(annotations: Record<string, string> | undefined): string | undefined {
  const containerd = annotations?.[CONTAINERD_IMAGE_NAME_ANNOTATION];
  if (containerd) return parseDockerRef(containerd).toString();
  const refName = annotations?.[REF_NAME_ANNOTATION];
  if (!refName || !/[/:@]/.test(refName)) return undefined; // a bare tag: podman would make it localhost/<tag>
  try {
    return parseDockerRef(refName).toString();
  } catch {
    return undefined; // e.g. "1.0:with-colon", a tag-like string that is no reference
  }
}

async function resolveOci(content: ContentStore, scanned: Scanned): Promise<Resolved[]> {
  const label = scanned.label;
  const marker = parseJSON(scanned.metadata.get("oci-layout") ?? Buffer.alloc(0), `archive ${label}: oci-layout`) as { imageLayoutVersion?: unknown } | null;
  if (typeof marker?.imageLayoutVersion !== "string" || !marker.imageLayoutVersion.startsWith("1.")) {
    throw new InvalidArgumentError(`archive ${label}: unsupported imageLayoutVersion ${JSON.stringify(marker?.imageLayoutVersion)}`);
  }
  const parsed = parseManifest(scanned.metadata.get("index.json") ?? Buffer.alloc(0), undefined);
  if (parsed.kind !== "index") throw new InvalidArgumentError(`archive ${label}: index.json is not an image index`);
  const byTarget = new Map<Digest, Resolved>();
  for (const desc of parsed.body.manifests) {
    const what = `archive ${label}: image ${desc.annotations?.[REF_NAME_ANNOTATION] ?? desc.digest}`;
    const target: Descriptor = { mediaType: desc.mediaType, digest: desc.digest, size: desc.size };
    let r = byTarget.get(desc.digest);
    if (!r) {
      const { id } = await completeImage(content, target, what);
      r = { names: [], target, id };
      byTarget.set(desc.digest, r);
    }
    const name = nameFromAnnotations(desc.annotations);
    if (name !== undefined && !r.names.includes(name)) r.names.push(name);
  }
  return [...byTarget.values()];
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

function dockerEntries(bytes: Buffer, label: string): DockerManifestEntry[] {
  const json = parseJSON(bytes, `archive ${label}: manifest.json`);
  const ok = Array.isArray(json) && json.every((e: unknown) => {
    const m = e as Partial<DockerManifestEntry> | null;
    return typeof m?.Config === "string" && Array.isArray(m.Layers) && m.Layers.every((l) => typeof l === "string")
      && (m.RepoTags === undefined || m.RepoTags === null || (Array.isArray(m.RepoTags) && m.RepoTags.every((t) => typeof t === "string")));
  });
  if (!ok) throw new InvalidArgumentError(`archive ${label}: manifest.json must be an array of {Config, RepoTags, Layers}`);
  return json as DockerManifestEntry[];
}

/** A layer file's descriptor: as stored when uncompressed; compressed ones are checked by uncompressing. */
async function dockerLayer(content: ContentStore, file: { digest: Digest; size: number }, diffID: Digest, what: string): Promise<Descriptor> {
  if (file.digest === diffID) return { mediaType: MediaType.ociLayer, digest: file.digest, size: file.size };
  const { compression, stream } = await decompressed((await content.reader(file.digest)) as AsyncIterable<Buffer>);
  let actual = file.digest;
  if (compression !== "none") {
    const d = new Digester(isDigest(diffID) ? digestAlgorithm(diffID) : "sha256");
    await drainInto(stream, d);
    actual = d.digest();
    if (actual === diffID) {
      return { mediaType: compression === "gzip" ? MediaType.ociLayerGzip : MediaType.ociLayerZstd, digest: file.digest, size: file.size };
    }
  } else {
    for await (const _ of stream) break;
  }
  throw new InvalidArgumentError(`${what}: digest mismatch: the layer's content is ${actual}, the image config's diff_id is ${diffID}`);
}

async function resolveDocker(content: ContentStore, scanned: Scanned): Promise<Resolved[]> {
  const label = scanned.label;
  const out: Resolved[] = [];
  for (const entry of dockerEntries(scanned.metadata.get("manifest.json") ?? Buffer.alloc(0), label)) {
    const missing = (p: string): NotFoundError => new NotFoundError(`archive ${label}: manifest.json names ${p}, which the archive does not hold`);
    const configFile = lookup(scanned, entry.Config);
    if (!configFile) throw missing(entry.Config);
    const config = parseJSON(await readSmallBlob(content, configFile.digest), `archive ${label}: ${entry.Config}`) as Partial<ImageConfig>;
    const diffIDs = config.rootfs?.diff_ids;
    if (!Array.isArray(diffIDs) || diffIDs.length !== entry.Layers.length) {
      throw new InvalidArgumentError(`archive ${label}: ${entry.Config} must list one rootfs.diff_id per layer of manifest.json (${entry.Layers.length})`);
    }
    const layers: Descriptor[] = [];
    for (const [i, path] of entry.Layers.entries()) {
      const file = lookup(scanned, path);
      if (!file) throw missing(path);
      layers.push(await dockerLayer(content, file, diffIDs[i] as Digest, `archive ${label}: ${path}`));
    }
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: configFile.digest, size: configFile.size },
      layers,
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = digestOf(bytes);
    await ingestBytes(content, bytes, digest);
    const names: string[] = [];
    for (const tag of entry.RepoTags ?? []) {
      let name: string;
      try {
        name = parseDockerRef(tag).toString();
      } catch (err) {
        throw new InvalidArgumentError(`archive ${label}: manifest.json: invalid RepoTag ${JSON.stringify(tag)}: ${(err as Error).message}`, { cause: err });
      }
      if (!names.includes(name)) names.push(name);
    }
    out.push({
      names,
      target: { mediaType: MediaType.ociManifest, digest, size: bytes.length },
      id: configFile.digest,
      labels: { [LOCAL_MANIFEST_LABEL]: "docker-archive" },
    });
  }
  return out;
}

/**
 * Loads the images of the archive at `source` (a path, or a stream such as stdin) and
 * registers them under the names the archive gives.
 */
export async function loadArchive(service: ArchiveImageService, source: string | Readable): Promise<LoadResult> {
  const label = typeof source === "string" ? source : "(stream)";
  const content = service.content;
  const input = (typeof source === "string" ? createReadStream(source) : source) as AsyncIterable<Buffer>;
  const scanned = await scan(content, input, label);
  const has = (p: string): boolean => scanned.metadata.has(p);
  let resolved: Resolved[];
  if (has("oci-layout") && has("index.json")) resolved = await resolveOci(content, scanned);
  else if (has("manifest.json")) resolved = await resolveDocker(content, scanned);
  else throw new InvalidArgumentError(`archive ${label} is not an image archive: it holds neither manifest.json nor oci-layout and index.json`);

  const images: LoadedImage[] = [];
  for (const r of resolved) {
    const records = await service.register({ names: r.names, target: r.target, ...(r.labels !== undefined ? { labels: r.labels } : {}) });
    images.push({ names: records.map((rec) => rec.name), target: r.target, id: r.id });
  }
  return {
    names: images.flatMap((i) => i.names),
    digests: [...new Set(images.map((i) => i.id))],
    images,
  };
}
