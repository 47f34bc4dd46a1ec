/**
 * `podyard import`: makes a one-layer image from a root filesystem, a tar (plain, gzip
 * or zstd) or a directory, like `docker import`.
 *
 * A directory is walked into layer entries (modes, owners, symlinks and hard links kept;
 * sockets, FIFOs and devices skipped) and packed deterministically; a tar passes through
 * as the layer. Either way the tar streams through a digester (the diffID) and gzip into
 * the content store, never held in memory. The config records the host platform, the
 * time from the injected clock and a history entry `podyard import`.
 */
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { realClock, type Clock } from "../../clock/index.js";
import { InvalidArgumentError, NotFoundError, errnoCode, isAlreadyExists } from "../../errdefs/index.js";
import { Digester, MediaType, digestOf, packLayer, type Descriptor, type Digest, type ImageConfig, type ImageManifest, type LayerEntry } from "../../oci/index.js";
import { parseDockerRef } from "../../reference/index.js";
import { hostPlatform } from "../../oci/index.js";
import type { ImageRecord, Ingester } from "../../store/index.js";
import { decompressed, ingestBytes, ingestRef, tap } from "./archive-streams.js";
import type { ArchiveImageService } from "./archive-types.js";
import { applyChanges, type ContainerConfig } from "./image-changes.js";

export interface ImportOptions {
  /** the image's name (normalised: `app` → `docker.io/library/app:latest`); none leaves it unnamed */
  name?: string;
  /** the history entry's comment (`docker import -m`) */
  message?: string;
  /** Dockerfile instructions for the config (`docker import -c`), e.g. `CMD ["/bin/sh"]` */
  changes?: readonly string[];
  /** where `created` comes from; default the real clock */
  clock?: Clock;
  /** gzip level of the layer, default 6 */
  gzipLevel?: number;
}

export interface ImportResult {
  /** the image ID: the config's digest */
  id: Digest;
  /** the OCI manifest */
  target: Descriptor;
  /** the layer's descriptor (gzip) and diffID */
  layer: Descriptor;
  diffID: Digest;
  /** the record of the name, when one was given */
  record?: ImageRecord;
}

export const IMPORT_CREATED_BY = "podyard import";

/** The entries of a directory tree, sorted, not following symlinks; hard links become link entries. */
async function directoryEntries(root: string): Promise<LayerEntry[]> {
  const entries: LayerEntry[] = [];
  const inodes = new Map<string, string>();
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const path = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(abs);
      const base = { path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isDirectory()) {
        entries.push({ type: "dir", ...base });
        await walk(abs, path);
      } else if (st.isSymbolicLink()) {
        entries.push({ type: "symlink", ...base, linkname: await readlink(abs) });
      } else if (st.isFile()) {
        const inode = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(inode) : undefined;
        if (first !== undefined) {
          entries.push({ type: "hardlink", ...base, linkname: first });
          continue;
        }
        if (st.nlink > 1) inodes.set(inode, path);
        entries.push({ type: "file", ...base, source: { size: st.size, open: () => createReadStream(abs) } });
      }
      // sockets, FIFOs and device nodes have no layer entry type: skipped
    }
  };
  await walk(root, "");
  return entries;
}

/** Checks that the stream is a tar (ustar or GNU magic in the first header) and passes it on. */
async function* checkedTar(src: AsyncIterable<Buffer>, label: string): AsyncGenerator<Buffer> {
  let head = Buffer.alloc(0);
  let checked = false;
  for await (const chunk of src) {
    if (!checked) {
      head = Buffer.concat([head, chunk]);
      if (head.length < 512) continue;
      if (head.subarray(257, 262).toString("latin1") !== "ustar") throw new InvalidArgumentError(`${label} is not a tar archive (no ustar header)`);
      checked = true;
      yield head;
      continue;
    }
    yield chunk;
  }
  if (!checked) throw new InvalidArgumentError(`${label} is not a tar archive (${head.length} bytes)`);
}

/** Gzips the tar `src` into the content store; returns the layer descriptor and diffID. */
async function storeLayer(content: Ingester, src: AsyncIterable<Buffer>, level: number): Promise<{ layer: Descriptor; diffID: Digest }> {
  const tar = new Digester();
  const gz = new Digester();
  const w = await content.writer({ ref: ingestRef("import") });
  try {
    await pipeline(src, tap(tar), createGzip({ level }), async (compressed: AsyncIterable<Buffer>) => {
      for await (const chunk of compressed) {
        gz.update(chunk);
        await w.write(chunk);
      }
    });
    await w.commit({ digest: gz.digest(), size: gz.size }).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err; // the same layer was imported before
    });
  } catch (err) {
    await w.abort().catch(() => undefined);
    throw err;
  }
  return { layer: { mediaType: MediaType.ociLayerGzip, digest: gz.digest(), size: gz.size }, diffID: tar.digest() };
}

async function layerSource(source: string): Promise<AsyncIterable<Buffer>> {
  let st;
  try {
    st = await stat(source);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") throw new NotFoundError(`import source ${source} not found`, { cause: err });
    throw err;
  }
  if (st.isDirectory()) return packLayer(await directoryEntries(source));
  if (!st.isFile()) throw new InvalidArgumentError(`import source ${source}: want a tar file or a directory`);
  const { stream } = await decompressed(createReadStream(source) as AsyncIterable<Buffer>);
  return checkedTar(stream, source);
}

/**
 * Imports `source` (a tar file, plain or compressed, or a directory) as a one-layer image,
 * named `opts.name` when given (a tag; a digest reference is refused before anything is stored).
 */
export async function importRootfs(service: ArchiveImageService, source: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const ref = opts.name === undefined ? undefined : parseDockerRef(opts.name);
  // docker's refusal: a digest is the manifest's, which an import makes; no name can promise it
  if (ref?.digest !== undefined) throw new InvalidArgumentError(`cannot import digest reference ${JSON.stringify(opts.name)}`);
  const name = ref?.toString();
  const containerConfig: ContainerConfig = applyChanges({}, opts.changes ?? []);
  const level = opts.gzipLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new InvalidArgumentError(`gzipLevel ${level}: must be an integer 0-9`);
  const content = service.content;

  const { layer, diffID } = await storeLayer(content, await layerSource(source), level);

  const created = new Date((opts.clock ?? realClock).now()).toISOString();
  const platform = hostPlatform();
  const config: ImageConfig & { config: ContainerConfig } = {
    created,
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: containerConfig,
    rootfs: { type: "layers", diff_ids: [diffID] },
    history: [{ created, created_by: IMPORT_CREATED_BY, ...(opts.message ? { comment: opts.message } : {}) }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configDesc: Descriptor = { mediaType: MediaType.ociConfig, digest: digestOf(configBytes), size: configBytes.length };
  await ingestBytes(content, configBytes, configDesc.digest);
  const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: configDesc, layers: [layer] };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const target: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf(manifestBytes), size: manifestBytes.length };
  await ingestBytes(content, manifestBytes, target.digest);

  const [record] = await service.register({ names: name === undefined ? [] : [name], target });
  return { id: configDesc.digest, target, layer, diffID, ...(record ? { record } : {}) };
}
