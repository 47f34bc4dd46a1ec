/**
 * Makes an image whose blobs are already in the content store (loaded from an
 * archive, imported, built) a named image of this node: choose the platform
 * manifest, unpack its layers into snapshots, record the names.
 */
import { InvalidArgumentError, NotFoundError } from "../errdefs/index.js";
import { parseManifest, type Descriptor, type Digest, type ImageConfig, type ImageIndex, type Platform } from "../oci/index.js";
import { parseDockerRef } from "../reference/index.js";
import { hostPlatform, selectManifest } from "../oci/index.js";
import { unpackLayers, type ContentStore, type ImageRecord, type ImageRecordInput, type ImageStore, type Snapshotter } from "../store/index.js";
import { keepImage, nameImage } from "./image-names.js";
import { topChain, unpackedSize } from "./image-layers.js";

export interface RegisterDeps {
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
  readBlob(digest: Digest): Promise<Buffer>;
}

export interface RegisterOptions {
  /** names to give the image (normalised here); without any, the image is kept dangling (`<none>`) unless it has a name already */
  names: string[];
  /** the manifest or index, stored in the content store */
  target: Descriptor;
  platform?: Platform;
  /** labels every record gets (see image-labels.ts) */
  labels?: Record<string, string>;
}

export async function registerImage(deps: RegisterDeps, opts: RegisterOptions): Promise<ImageRecord[]> {
  const platform = opts.platform ?? hostPlatform();
  let desc = opts.target;
  for (let depth = 0; ; depth++) {
    if (depth > 4) throw new InvalidArgumentError(`${opts.target.digest}: image indexes nested deeper than 4`);
    if (!(await deps.content.info(desc.digest))) throw new NotFoundError(`manifest ${desc.digest} is not in the content store`);
    const parsed = parseManifest(await deps.readBlob(desc.digest), desc.mediaType);
    if (parsed.kind === "manifest") {
      const body = parsed.body;
      for (const d of [body.config, ...body.layers]) {
        if (!(await deps.content.info(d.digest))) throw new NotFoundError(`blob ${d.digest} of image ${opts.target.digest} is not in the content store`);
      }
      const config = JSON.parse((await deps.readBlob(body.config.digest)).toString("utf8")) as ImageConfig;
      if (!config.rootfs || !Array.isArray(config.rootfs.diff_ids) || config.rootfs.diff_ids.length !== body.layers.length) {
        throw new InvalidArgumentError(`image config ${body.config.digest}: rootfs.diff_ids must list one diffID per layer (${body.layers.length})`);
      }
      const chains = await unpackLayers({
        snapshotter: deps.snapshotter,
        diffIDs: config.rootfs.diff_ids,
        layers: body.layers.map((descriptor) => ({ descriptor, open: () => deps.content.reader(descriptor.digest) })),
      });
      const record: ImageRecordInput = {
        name: body.config.digest,
        target: { mediaType: opts.target.mediaType, digest: opts.target.digest, size: opts.target.size },
        configDigest: body.config.digest,
        manifestDigest: desc.digest,
        size: body.config.size + body.layers.reduce((n, l) => n + l.size, 0),
        ...topChain(chains),
        unpackedSize: await unpackedSize(deps, body.config.digest, chains),
        ...(opts.labels !== undefined ? { labels: opts.labels } : {}),
        ...(config.created !== undefined ? { created: config.created } : {}),
      };
      if (opts.names.length === 0) keepImage(deps.images, record);
      return opts.names.map((n) => nameImage(deps.images, { ...record, name: parseDockerRef(n).toString() }));
    }
    desc = selectManifest(parsed.body as ImageIndex, platform, { digest: desc.digest });
  }
}
