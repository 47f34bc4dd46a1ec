/**
 * The CRI ImageService over the node's images (containerd's internal/cri/server/images):
 * images are grouped by ID, an absent image is an empty status rather than an error,
 * removing an absent image succeeds, and a pull takes the pod's credentials.
 */
import { realClock, type Clock } from "../clock/index.js";
import { isNotFound } from "../errdefs/index.js";
import type { Digest, ImageConfig } from "../oci/index.js";
import { parseDockerRef } from "../reference/index.js";
import type { ImageRecord } from "../store/index.js";
import { parseAuth } from "./cri-auth.js";
import type {
  AuthConfig, FilesystemUsage, Image, ImageFilter, ImageFsInfoResponse, ImageService, ImageSpec, ImageStatusResponse, PodSandboxConfig, PullImageResponse,
} from "./cri.js";
import type { LocalImageService } from "./local-image-service.js";

export interface CriImageServiceOptions {
  images: LocalImageService;
  /** where the content store lives, reported by imageFsInfo */
  contentDir: string;
  /** where the snapshots live, reported by imageFsInfo */
  snapshotsDir: string;
  /** the source of imageFsInfo's timestamps; the real clock by default */
  clock?: Clock;
}

/** CRI's uid or username from the config's `User` (`uid[:gid]` or `name[:group]`). */
function userOf(config: ImageConfig): Pick<Image, "uid" | "username"> {
  const user = (config.config?.User ?? "").split(":")[0] ?? "";
  if (/^\d+$/.test(user)) return { uid: { value: Number(user) }, username: "" };
  return { username: user };
}

export class CriImageService implements ImageService {
  readonly #images: LocalImageService;
  readonly #contentDir: string;
  readonly #snapshotsDir: string;
  readonly #clock: Clock;

  constructor(opts: CriImageServiceOptions) {
    this.#images = opts.images;
    this.#contentDir = opts.contentDir;
    this.#snapshotsDir = opts.snapshotsDir;
    this.#clock = opts.clock ?? realClock;
  }

  async listImages(filter: ImageFilter = {}): Promise<Image[]> {
    await this.#images.upgradeRecords();
    if (filter.image !== undefined && filter.image.image !== "") {
      const { image } = await this.imageStatus(filter.image);
      return image === undefined ? [] : [image];
    }
    const ids = new Map<Digest, ImageRecord>();
    for (const r of this.#images.list()) if (!ids.has(r.configDigest)) ids.set(r.configDigest, r);
    const out: Image[] = [];
    for (const id of ids.keys()) {
      const image = await this.#status(id);
      if (image !== undefined) out.push(image);
    }
    return out;
  }

  async imageStatus(image: ImageSpec, verbose = false): Promise<ImageStatusResponse> {
    await this.#images.upgradeRecords();
    let id: Digest;
    try {
      id = this.#images.find(image.image).record.configDigest;
    } catch (err) {
      if (isNotFound(err)) return { info: {} };
      throw err;
    }
    const found = await this.#status(id, verbose);
    return found === undefined ? { info: {} } : { image: found, info: found.info };
  }

  async pullImage(image: ImageSpec, auth?: AuthConfig, _sandboxConfig?: PodSandboxConfig): Promise<PullImageResponse> {
    const ref = parseDockerRef(image.image);
    const credentials = parseAuth(auth, ref.domain);
    const pulled = await this.#images.pull(ref.toString(), credentials === undefined ? {} : { credentials });
    return { imageRef: pulled.configDigest };
  }

  async removeImage(image: ImageSpec): Promise<void> {
    let records: ImageRecord[];
    try {
      records = this.#images.find(image.image).all;
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    await this.#images.untag(records.map((r) => r.name));
  }

  async imageFsInfo(): Promise<ImageFsInfoResponse> {
    const timestamp = BigInt(this.#clock.now()) * 1_000_000n;
    let blobBytes = 0;
    let blobs = 0;
    for await (const info of this.#images.content.walk()) {
      blobBytes += info.size;
      blobs++;
    }
    let snapshotBytes = 0;
    let snapshotInodes = 0;
    for (const s of await this.#images.snapshotter.walk()) {
      const u = await this.#images.snapshotter.usage(s.name);
      snapshotBytes += u.size;
      snapshotInodes += u.inodes;
    }
    const usage = (mountpoint: string, bytes: number, inodes: number): FilesystemUsage => ({
      timestamp, fsId: { mountpoint }, usedBytes: { value: bytes }, inodesUsed: { value: inodes },
    });
    return {
      imageFilesystems: [usage(this.#contentDir, blobBytes, blobs), usage(this.#snapshotsDir, snapshotBytes, snapshotInodes)],
      containerFilesystems: [],
    };
  }

  /**
   * The CRI view of image `id`, with the verbose info when asked; undefined when its blobs
   * are gone, or when `fsck --repair` removed some (the kubelet then pulls it again).
   */
  async #status(id: Digest, verbose = false): Promise<(Image & { info: Record<string, string> }) | undefined> {
    if (this.#images.needsPull(id)) return undefined;
    let details;
    try {
      details = await this.#images.details(id);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const { record, names, config } = details;
    const info: Record<string, string> = verbose ? { info: JSON.stringify({ chainID: record.chainID, imageSpec: config }) } : {};
    return {
      id,
      repoTags: names.filter((n) => !n.includes("@")),
      repoDigests: this.#images.repoDigests(id),
      size: record.size,
      ...userOf(config),
      spec: { image: id },
      pinned: false,
      info,
    };
  }
}
