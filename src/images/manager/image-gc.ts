/**
 * Image garbage collection (pkg/kubelet/images/image_gc_manager.go): when the image filesystem is
 * at least `high` percent full, remove unused images, least recently used first, until it would
 * be down to `low` percent; images in use by any container (running or exited), pinned images and
 * images first seen less than the minimum age ago are kept.
 */
import { statfs } from "node:fs/promises";
import { realClock, type Clock } from "../../clock/index.js";
import { errorMessage, FailedPreconditionError, InvalidArgumentError } from "../../errdefs/index.js";
import type { Image, ImageService } from "../cri.js";
import type { ImageManagerConfig } from "../image-manager-types.js";
import { aggregateMessage } from "../../gofmt/index.js";
import { defaultImageManagerConfig } from "./config.js";

/** The kubelet's GC period (`ImageGCPeriod`). */
export const IMAGE_GC_PERIOD_MS = 5 * 60_000;

export interface ImageFsStats {
  capacityBytes: number;
  availableBytes: number;
}

export interface ImageRecordGC {
  /** When detectImages first saw the image (ms). */
  firstDetected: number;
  /** When a container last used it (ms); 0 = never. */
  lastUsed: number;
  size: number;
  pinned: boolean;
}

export type NodeEventRecorder = (type: "Normal" | "Warning", reason: string, message: string) => void;

export interface ImageGCManagerOptions {
  imageService: ImageService;
  clock?: Clock;
  config?: ImageManagerConfig;
  /** Image IDs (or repo digests) of every container that exists, running or exited. */
  imagesInUse: () => Promise<Set<string>>;
  /** Capacity and free bytes of the image filesystem; default: statfs of the CRI's first image filesystem. */
  fsStats?: () => Promise<ImageFsStats>;
  /** Node events (InvalidDiskCapacity, FreeDiskSpaceFailed). */
  recordNodeEvent?: NodeEventRecorder;
  /**
   * After each pass, with the image IDs still on the node and the pass's start time: lets the
   * image manager drop pull records of removed images (`KubeletImageManager.pruneUnknownRecords`).
   */
  pruneRecords?: (imageRefs: string[], untilMs: number) => Promise<void>;
}

export class ImageGCManager {
  readonly #service: ImageService;
  readonly #clock: Clock;
  readonly #imagesInUse: () => Promise<Set<string>>;
  readonly #fsStats: () => Promise<ImageFsStats>;
  readonly #record: NodeEventRecorder;
  readonly #high: number;
  readonly #low: number;
  readonly #minAgeMs: number;
  readonly #maxAgeMs: number;
  readonly #records = new Map<string, ImageRecordGC>();
  readonly #pruneRecords: ((imageRefs: string[], untilMs: number) => Promise<void>) | undefined;
  /** When this manager was made: the default start of GC for the maximum-age rule. */
  readonly #began: number;

  constructor(opts: ImageGCManagerOptions) {
    const config = defaultImageManagerConfig(opts.config);
    this.#high = config.imageGCHighThresholdPercent;
    this.#low = config.imageGCLowThresholdPercent;
    if (this.#high < 0 || this.#high > 100) throw new InvalidArgumentError(`invalid HighThresholdPercent ${this.#high}, must be in range [0-100]`);
    if (this.#low < 0 || this.#low > 100) throw new InvalidArgumentError(`invalid LowThresholdPercent ${this.#low}, must be in range [0-100]`);
    if (this.#low > this.#high) throw new InvalidArgumentError(`LowThresholdPercent ${this.#low} can not be higher than HighThresholdPercent ${this.#high}`);
    this.#minAgeMs = config.imageMinimumGCAge;
    this.#maxAgeMs = config.imageMaximumGCAge;
    this.#service = opts.imageService;
    this.#clock = opts.clock ?? realClock;
    this.#imagesInUse = opts.imagesInUse;
    this.#fsStats = opts.fsStats ?? (() => this.#statfsOfImageFs());
    this.#record = opts.recordNodeEvent ?? (() => {});
    this.#pruneRecords = opts.pruneRecords;
    this.#began = this.#clock.now();
  }

  /**
   * The kubelet's first detection at start: the images already on the node are dated "long ago",
   * so they need not wait out the minimum age. Call once when the kubelet starts (run() does).
   */
  async start(): Promise<void> {
    await this.detectImages(0);
  }

  /** GC is off when the high threshold is 100 % (kubelet: "ImageGCHighThresholdPercent is set 100, Disable image GC"). */
  get enabled(): boolean {
    return this.#high !== 100;
  }

  async #statfsOfImageFs(): Promise<ImageFsStats> {
    const info = await this.#service.imageFsInfo();
    const mount = info.imageFilesystems[0]?.fsId.mountpoint;
    if (mount === undefined) throw new FailedPreconditionError("image filesystem stats: the image service reports no image filesystem");
    const s = await statfs(mount);
    return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  }

  /** What GC knows of each image, by image ID. */
  get records(): ReadonlyMap<string, Readonly<ImageRecordGC>> {
    return this.#records;
  }

  static #used(image: Image, inUse: Set<string>): boolean {
    return inUse.has(image.id) || image.repoDigests.some((d) => inUse.has(d)) || image.repoTags.some((t) => inUse.has(t));
  }

  /** Refreshes the records: new images are first detected at `detectTime`, images in use are used now. Returns the IDs in use. */
  async detectImages(detectTime = this.#clock.now()): Promise<Set<string>> {
    const images = await this.#service.listImages();
    const inUse = await this.#imagesInUse();
    const now = this.#clock.now();
    const used = new Set<string>();
    const current = new Set<string>();
    for (const image of images) {
      current.add(image.id);
      let rec = this.#records.get(image.id);
      if (rec === undefined) {
        rec = { firstDetected: detectTime, lastUsed: 0, size: image.size, pinned: image.pinned };
        this.#records.set(image.id, rec);
      }
      if (ImageGCManager.#used(image, inUse)) {
        rec.lastUsed = now;
        used.add(image.id);
      }
      rec.size = image.size;
      rec.pinned = image.pinned;
    }
    for (const id of [...this.#records.keys()]) if (!current.has(id)) this.#records.delete(id);
    return used;
  }

  /** Unused, unpinned images, least recently used first (never used first), ties by first detection. */
  async imagesInEvictionOrder(freeTime: number): Promise<{ id: string; record: ImageRecordGC }[]> {
    const inUse = await this.detectImages(freeTime);
    const out = [...this.#records].filter(([id, r]) => !inUse.has(id) && !r.pinned).map(([id, record]) => ({ id, record: { ...record } }));
    out.sort((a, b) => a.record.lastUsed - b.record.lastUsed || a.record.firstDetected - b.record.firstDetected);
    return out;
  }

  async #freeImage(id: string): Promise<void> {
    await this.#service.removeImage({ image: id });
    this.#records.delete(id);
  }

  async #freeSpace(bytesToFree: number, freeTime: number, images: { id: string; record: ImageRecordGC }[]): Promise<number> {
    const errors: string[] = [];
    let freed = 0;
    for (const { id, record } of images) {
      if (record.lastUsed >= freeTime) continue;
      // Just pulled images are about to be used by a container.
      if (freeTime - record.firstDetected < this.#minAgeMs) continue;
      try {
        await this.#freeImage(id);
      } catch (err) {
        errors.push(errorMessage(err));
        continue;
      }
      freed += record.size;
      if (freed >= bytesToFree) break;
    }
    if (errors.length > 0) {
      throw new FailedPreconditionError(`wanted to free ${bytesToFree} bytes, but freed ${freed} bytes space with errors in image deletion: ${aggregateMessage(errors)}`);
    }
    return freed;
  }

  async #freeOldImages(images: { id: string; record: ImageRecordGC }[], freeTime: number, beganGC: number): Promise<{ id: string; record: ImageRecordGC }[]> {
    if (this.#maxAgeMs === 0 || freeTime - beganGC <= this.#maxAgeMs) return images;
    const remaining: { id: string; record: ImageRecordGC }[] = [];
    const errors: string[] = [];
    for (const image of images) {
      if (freeTime - image.record.lastUsed > this.#maxAgeMs) {
        try {
          await this.#freeImage(image.id);
          continue;
        } catch (err) {
          errors.push(errorMessage(err));
        }
      }
      remaining.push(image);
    }
    if (errors.length > 0) throw new FailedPreconditionError(`failed to remove images older than the maximum age: ${aggregateMessage(errors)}`);
    return remaining;
  }

  /**
   * One GC pass. `beganGC` is when GC started (default: when this manager was made): images unused
   * for longer than the maximum age go only once that age has passed since then.
   */
  async garbageCollect(beganGC = this.#began): Promise<void> {
    const freeTime = this.#clock.now();
    try {
      await this.#collect(beganGC, freeTime);
    } finally {
      if (this.#pruneRecords !== undefined) {
        const ids = (await this.#service.listImages().catch(() => undefined))?.map((i) => i.id);
        if (ids !== undefined) await this.#pruneRecords(ids, freeTime).catch(() => undefined);
      }
    }
  }

  async #collect(beganGC: number, freeTime: number): Promise<void> {
    let images = await this.imagesInEvictionOrder(freeTime);
    images = await this.#freeOldImages(images, freeTime, beganGC);
    const stats = await this.#fsStats();
    const capacity = stats.capacityBytes;
    const available = Math.min(stats.availableBytes, capacity);
    if (capacity === 0) {
      const message = "invalid capacity 0 on image filesystem";
      this.#record("Warning", "InvalidDiskCapacity", message);
      throw new FailedPreconditionError(message);
    }
    const usagePercent = 100 - Math.trunc((available * 100) / capacity);
    if (usagePercent < this.#high) return;
    const amountToFree = Math.trunc((capacity * (100 - this.#low)) / 100) - available;
    const freed = await this.#freeSpace(amountToFree, freeTime, images);
    if (freed < amountToFree) {
      const message = `Failed to garbage collect required amount of images. Attempted to free ${amountToFree} bytes, but only found ${freed} bytes eligible to free.`;
      this.#record("Warning", "FreeDiskSpaceFailed", message);
      throw new FailedPreconditionError(message);
    }
  }

  /** Removes every unused image old enough (the eviction manager's DeleteUnusedImages under disk pressure). */
  async deleteUnusedImages(): Promise<void> {
    const freeTime = this.#clock.now();
    await this.#freeSpace(Number.MAX_SAFE_INTEGER, freeTime, await this.imagesInEvictionOrder(freeTime));
  }

  /**
   * The kubelet's loops until `signal` aborts: image detection every 5 minutes from now on (the first
   * pass dates the images already here to "long ago", so they need not wait out the minimum age),
   * and, unless disabled, GC every 5 minutes. Errors go to `onError`; GC failing twice in a row
   * also raises the node event ImageGCFailed.
   */
  async run(signal: AbortSignal, onError: (err: unknown) => void = () => {}): Promise<void> {
    const began = this.#began;
    const sleep = async (): Promise<boolean> => {
      try {
        await this.#clock.sleep(IMAGE_GC_PERIOD_MS, signal);
        return true;
      } catch {
        return false;
      }
    };
    const detect = async (): Promise<void> => {
      let initialized = false;
      do {
        if (signal.aborted) return;
        try {
          if (initialized) await this.detectImages();
          else await this.start();
          initialized = true;
        } catch (err) {
          onError(err);
        }
      } while (await sleep());
    };
    const collect = async (): Promise<void> => {
      if (!this.enabled) return;
      let failedBefore = false;
      while (await sleep()) {
        try {
          await this.garbageCollect(began);
          failedBefore = false;
        } catch (err) {
          onError(err);
          if (failedBefore) this.#record("Warning", "ImageGCFailed", errorMessage(err));
          failedBefore = true;
        }
      }
    };
    await Promise.all([detect(), collect()]);
  }
}
