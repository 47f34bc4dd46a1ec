/**
 * OCI image layout directories (image-spec `image-layout.md`): `oci-layout`, `index.json` and
 * `blobs/<alg>/<encoded>`. Writes are atomic (temporary file, fsync, rename), so a reader never
 * sees a partial blob or index. The layout is what `skopeo inspect oci:DIR:TAG` and `umoci` read.
 */
import { mkdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, errnoCode } from "../errdefs/index.js";
import { pathExists, readFileIfExists, tempPathFor, writeFileAtomic } from "../fsutil/index.js";
import { digestAlgorithm, digestEncoded, digestOf, parseDigest, type Digest } from "./digest.js";
import { writeLayer, type LayerEntry, type WriteLayerOptions } from "./layer-tar.js";
import { parseManifest, type Descriptor, type ImageIndex, type ImageManifest } from "./manifest.js";
import { MediaType } from "./media-types.js";

export const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";
const LAYOUT_VERSION = "1.0.0";
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config (image-spec `config.md`), the fields podyard writes and reads. */
export interface ImageConfig {
  created?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, Record<string, never>>;
    StopSignal?: string;
  };
  rootfs: { type: "layers"; diff_ids: Digest[] };
  history?: HistoryEntry[];
}

/** A layer blob in a layout: its descriptor, its diffID and the history line that made it. */
export interface LayoutLayer {
  descriptor: Descriptor;
  diffID: Digest;
  createdBy?: string;
}

export interface ImageConfigOptions {
  architecture?: string;
  os?: string;
  env?: string[];
  cmd?: string[];
  workingDir?: string;
  created?: string;
}

/** The OCI architecture name of a Node `process.arch` (x64 → amd64, arm64 → arm64, ia32 → 386). */
export function ociArchitecture(arch: string = process.arch): string {
  const names: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" };
  return names[arch] ?? arch;
}

/**
 * A reproducible config for `layers`: created at the epoch, this node's architecture, linux,
 * PATH, `Cmd ["/bin/sh"]`, `WorkingDir "/"`, one history entry per layer.
 */
export function imageConfig(layers: readonly LayoutLayer[], opts: ImageConfigOptions = {}): ImageConfig {
  const created = opts.created ?? "1970-01-01T00:00:00Z";
  return {
    created,
    architecture: opts.architecture ?? ociArchitecture(),
    os: opts.os ?? "linux",
    config: { Env: opts.env ?? [`PATH=${DEFAULT_PATH}`], Cmd: opts.cmd ?? ["/bin/sh"], WorkingDir: opts.workingDir ?? "/" },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffID) },
    history: layers.map((l) => ({ created, created_by: l.createdBy ?? "podyard" })),
  };
}

function blobFile(dir: string, d: Digest): string {
  const digest = parseDigest(d);
  return join(dir, "blobs", digestAlgorithm(digest), digestEncoded(digest));
}

const exists = pathExists;

/** Creates `dir` as an empty layout (`oci-layout`, `blobs/sha256/`) unless it already is one. */
export async function initImageLayout(dir: string): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const marker = join(dir, "oci-layout");
  if (!(await exists(marker))) {
    await writeFileAtomic(marker, Buffer.from(JSON.stringify({ imageLayoutVersion: LAYOUT_VERSION })));
  }
}

/** Stores `data` as a blob of the layout and returns its descriptor. */
export async function writeBlob(dir: string, data: Uint8Array, mediaType: string): Promise<Descriptor> {
  const digest = digestOf(data);
  const path = blobFile(dir, digest);
  if (!(await exists(path))) await writeFileAtomic(path, data);
  return { mediaType, digest, size: data.byteLength };
}

/** Builds a gzipped layer of `entries` straight into the layout's blobs (streamed, never buffered). */
export async function writeLayoutLayer(
  dir: string,
  entries: readonly LayerEntry[],
  opts: WriteLayerOptions & { createdBy?: string } = {},
): Promise<LayoutLayer> {
  await initImageLayout(dir);
  const tmp = tempPathFor(join(dir, "blobs", "sha256", "layer"));
  try {
    const layer = await writeLayer(entries, tmp, opts);
    await rename(tmp, blobFile(dir, layer.digest));
    const descriptor: Descriptor = { mediaType: layer.mediaType, digest: layer.digest, size: layer.size };
    return { descriptor, diffID: layer.diffID, ...(opts.createdBy === undefined ? {} : { createdBy: opts.createdBy }) };
  } finally {
    await rm(tmp, { force: true });
  }
}

export interface WriteImageLayoutOptions {
  layers: readonly LayoutLayer[];
  /** Defaults to `imageConfig(layers)`; its `rootfs.diff_ids` must match the layers. */
  config?: ImageConfig;
  /** The `org.opencontainers.image.ref.name` of the manifest in `index.json`; default "latest". */
  tag?: string;
}

export interface WrittenImage {
  /** The descriptor `index.json` lists: media type, manifest digest and size, ref name. */
  manifestDescriptor: Descriptor;
  manifest: ImageManifest;
  config: ImageConfig;
}

async function readIndex(dir: string): Promise<ImageIndex | undefined> {
  const text = await readFileIfExists(join(dir, "index.json"), "utf8");
  if (text === undefined) return undefined;
  const parsed = parseManifest(Buffer.from(text), undefined);
  if (parsed.kind !== "index") throw new InvalidArgumentError(`${join(dir, "index.json")}: not an image index`);
  return parsed.body;
}

/**
 * Writes the config and manifest of an image whose layers are already in `dir`, and tags it in
 * `index.json` (replacing an earlier manifest with the same tag, keeping other tags).
 */
export async function writeImageLayout(dir: string, opts: WriteImageLayoutOptions): Promise<WrittenImage> {
  const tag = opts.tag ?? "latest";
  const config = opts.config ?? imageConfig(opts.layers);
  const diffIDs = opts.layers.map((l) => l.diffID);
  if (JSON.stringify(config.rootfs.diff_ids) !== JSON.stringify(diffIDs)) {
    throw new InvalidArgumentError(`image config rootfs.diff_ids ${JSON.stringify(config.rootfs.diff_ids)} do not match the layers' diffIDs ${JSON.stringify(diffIDs)}`);
  }
  await initImageLayout(dir);
  const configDesc = await writeBlob(dir, Buffer.from(JSON.stringify(config)), MediaType.ociConfig);
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDesc,
    layers: opts.layers.map((l) => l.descriptor),
  };
  const m = await writeBlob(dir, Buffer.from(JSON.stringify(manifest)), MediaType.ociManifest);
  const manifestDescriptor: Descriptor = { ...m, annotations: { [REF_NAME_ANNOTATION]: tag } };
  const previous = (await readIndex(dir))?.manifests ?? [];
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [...previous.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== tag), manifestDescriptor],
  };
  await writeFileAtomic(join(dir, "index.json"), Buffer.from(JSON.stringify(index)));
  return { manifestDescriptor, manifest, config };
}

export interface ImageLayout extends WrittenImage {
  /** The file holding a blob of the layout (it need not exist). */
  blobPath(digest: Digest): string;
}

async function readVerifiedBlob(dir: string, d: Descriptor): Promise<Buffer> {
  const bytes = await readFile(blobFile(dir, d.digest)).catch((err: unknown) => {
    if (errnoCode(err) === "ENOENT") throw new NotFoundError(`blob ${d.digest} missing from image layout ${dir}`, { cause: err });
    throw err;
  });
  if (bytes.byteLength !== d.size || digestOf(bytes, digestAlgorithm(d.digest)) !== d.digest) {
    throw new FailedPreconditionError(`blob ${d.digest} in image layout ${dir} does not match its descriptor (size ${bytes.byteLength}, expected ${d.size})`);
  }
  return bytes;
}

function pickManifest(dir: string, index: ImageIndex, tag: string | undefined): Descriptor {
  const found = tag === undefined ? index.manifests : index.manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === tag);
  const names = index.manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? d.digest).join(", ");
  if (found.length === 0) throw new NotFoundError(`image layout ${dir} has no manifest tagged ${JSON.stringify(tag)} (it has: ${names || "none"})`);
  const [only] = found;
  if (found.length > 1 || only === undefined) throw new InvalidArgumentError(`image layout ${dir} holds several manifests (${names}): name a tag`);
  return only;
}

/** Reads back the image tagged `tag` in `dir` (or its only image), verifying manifest and config digests. */
export async function readImageLayout(dir: string, tag?: string): Promise<ImageLayout> {
  let marker: unknown;
  try {
    marker = JSON.parse(await readFile(join(dir, "oci-layout"), "utf8"));
  } catch (err) {
    throw new InvalidArgumentError(`${dir} is not an OCI image layout: cannot read oci-layout`, { cause: err });
  }
  const version = (marker as { imageLayoutVersion?: unknown } | null)?.imageLayoutVersion;
  if (version !== LAYOUT_VERSION) throw new InvalidArgumentError(`${dir}: unsupported imageLayoutVersion ${JSON.stringify(version)}`);
  const index = await readIndex(dir);
  if (index === undefined) throw new InvalidArgumentError(`${dir} is not an OCI image layout: index.json missing`);
  const manifestDescriptor = pickManifest(dir, index, tag);
  if (manifestDescriptor.mediaType !== MediaType.ociManifest && manifestDescriptor.mediaType !== MediaType.dockerManifest) {
    throw new InvalidArgumentError(`${dir}: manifest ${manifestDescriptor.digest} has media type ${manifestDescriptor.mediaType}, expected an image manifest`);
  }
  const parsed = parseManifest(await readVerifiedBlob(dir, manifestDescriptor), manifestDescriptor.mediaType);
  if (parsed.kind !== "manifest") throw new InvalidArgumentError(`${dir}: ${manifestDescriptor.digest} is not an image manifest`);
  const config = JSON.parse((await readVerifiedBlob(dir, parsed.body.config)).toString("utf8")) as ImageConfig;
  return { manifestDescriptor, manifest: parsed.body, config, blobPath: (d) => blobFile(dir, d) };
}
