/**
 * Unpacking an image's layers into committed snapshots named by chainID, so that each layer
 * stack is unpacked once and shared by every image that has it (containerd's unpacker).
 */
import { randomBytes } from "node:crypto";
import { Limiter } from "../../concurrency/index.js";
import { digestOf, type Descriptor, type Digest } from "../../oci/index.js";
import { FailedPreconditionError, InvalidArgumentError, NotImplementedError, isNotFound } from "../../errdefs/index.js";
import { applyLayer, type AppliedLayer } from "./apply-layer.js";
import { followBuffers, followFile, type FileFeed } from "./file-feed.js";
import { decompress } from "./decompress.js";
import type { Mount, Snapshotter } from "../snapshots/index.js";

/** Label on the active snapshot an unpack writes into: the chainID it will be committed as. */
export const UNPACK_LABEL = "podyard.io/unpack.chainID";

/**
 * The chainID of a layer stack (image-spec config.md): chainID(L0) = diffID(L0),
 * chainID(L0..Ln) = sha256(chainID(L0..Ln-1) + " " + diffID(Ln)).
 */
export function chainID(diffIDs: readonly Digest[]): Digest {
  const [first, ...rest] = diffIDs;
  if (first === undefined) throw new InvalidArgumentError("chainID of no layers: at least one diffID is needed");
  return rest.reduce<Digest>((chain, diffID) => digestOf(`${chain} ${diffID}`), first);
}

/** The chainID of every prefix of `diffIDs`: one per layer, base first (the snapshot names). */
export function chainIDs(diffIDs: readonly Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const [i, diffID] of diffIDs.entries()) out.push(i === 0 ? diffID : chainID([out[i - 1] as Digest, diffID]));
  return out;
}

export interface UnpackLayer {
  descriptor: Descriptor;
  /** The blob's file, when it is one: lets an applier in another thread read it itself. */
  path?: string;
  /**
   * The blob as it downloads, when it does: extraction starts with the first bytes instead
   * of after the last (preferred over `path` and `open`).
   */
  feed?: () => Promise<FileFeed>;
  /** The layer blob (compressed or not: the format is detected from its first bytes). */
  open(): Promise<AsyncIterable<Uint8Array>>;
}

/** Extracts one layer into `dir` and returns its diffID; by default `applyLayer` in this thread. */
export type LayerApplier = (dir: string, layer: UnpackLayer, opts: { maxBytes?: number; onSkip?: (entry: string, reason: string) => void }) => Promise<AppliedLayer>;

/** The default applier: decompress the blob and extract it here, in this thread. */
export const applyInThread: LayerApplier = async (dir, layer, opts) => {
  const blob = layer.feed !== undefined ? followFile(await layer.feed(), { pool: followBuffers }) : await layer.open();
  const recycle = (chunk: Buffer): void => followBuffers.recycle(chunk);
  return applyLayer(dir, decompress(blob, { recycle, ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }) }), {
    ...(opts.onSkip === undefined ? {} : { onSkip: opts.onSkip }),
  });
};

export interface UnpackLayersOptions {
  snapshotter: Snapshotter;
  /** where extraction runs (default: this thread); see WorkerLayerApplier */
  apply?: LayerApplier;
  /** The manifest's layers, base first. */
  layers: readonly UnpackLayer[];
  /** The image config's `rootfs.diff_ids`, one per layer. */
  diffIDs: readonly Digest[];
  /** Largest uncompressed size accepted for one layer. */
  maxBytes?: number;
  /** Layers extracted at once (default 2): a layer waiting for the one below to commit does not count. */
  concurrency?: number;
  onSkip?: (entry: string, reason: string) => void;
}

const inflight = new WeakMap<Snapshotter, Map<string, Promise<void>>>();

/** Runs `fn` while holding the lock for `chain` on `snapshotter`; later callers wait their turn. */
async function withLock<T>(snapshotter: Snapshotter, chain: string, fn: () => Promise<T>): Promise<T> {
  let locks = inflight.get(snapshotter);
  if (locks === undefined) {
    locks = new Map();
    inflight.set(snapshotter, locks);
  }
  for (let held = locks.get(chain); held !== undefined; held = locks.get(chain)) await held;
  let release = (): void => {};
  locks.set(chain, new Promise<void>((r) => (release = r)));
  try {
    return await fn();
  } finally {
    locks.delete(chain);
    release();
  }
}

/** The directory an unpack writes into: the source of a rw bind, or an overlay's upperdir. */
function writableDir(mounts: readonly Mount[], key: string): string {
  const [m] = mounts;
  if (mounts.length === 1 && m !== undefined) {
    if (m.type === "bind" && m.options.includes("rw")) return m.source;
    const upper = m.type === "overlay" ? m.options.find((o) => o.startsWith("upperdir=")) : undefined;
    if (upper !== undefined) return upper.slice("upperdir=".length);
  }
  throw new FailedPreconditionError(`cannot unpack into snapshot "${key}": expected one rw bind or overlay mount with an upperdir, got ${JSON.stringify(mounts)}`);
}

async function isCommitted(snapshotter: Snapshotter, name: string): Promise<boolean> {
  try {
    const info = await snapshotter.stat(name);
    if (info.kind !== "committed") throw new FailedPreconditionError(`snapshot "${name}" exists but is ${info.kind}, not a committed layer`);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/**
 * Unpacks `layers` into committed snapshots named by their chainIDs and returns the
 * chainIDs. Up to `concurrency` layers are extracted side by side, each into a snapshot
 * prepared on no parent; each is then committed on the layer below it (a rebase), in
 * order, once that one is committed. A layer whose snapshot exists is skipped; concurrent
 * unpacks of one chainID wait for each other and the later ones reuse the result. Each
 * layer's diffID must equal the config's (else FailedPreconditionError); a failed layer,
 * and every layer above it, leaves no snapshot behind.
 */
export async function unpackLayers(opts: UnpackLayersOptions): Promise<Digest[]> {
  const { layers, diffIDs } = opts;
  if (layers.length !== diffIDs.length) {
    throw new InvalidArgumentError(`image has ${layers.length} layers but its config lists ${diffIDs.length} diff_ids`);
  }
  for (const [i, layer] of layers.entries()) {
    if (layer.descriptor.mediaType.endsWith("+encrypted")) {
      throw new NotImplementedError(`layer ${i} (${layer.descriptor.digest}) is encrypted (${layer.descriptor.mediaType}): encrypted layers are not supported`);
    }
  }
  const chains = chainIDs(diffIDs);
  const slots = new Limiter(Math.max(1, opts.concurrency ?? 2));
  const committed: Promise<void>[] = [];
  for (const [i, layer] of layers.entries()) {
    const done = unpackOne(opts, layer, i, chains, committed[i - 1], slots);
    done.catch(() => undefined); // reported below, in layer order
    committed.push(done);
  }
  for (const r of await Promise.allSettled(committed)) if (r.status === "rejected") throw r.reason;
  return chains;
}

/** Extracts layer `i` (holding one of `slots` only while it extracts) and commits it on the one below once `below` (that commit) is done. */
async function unpackOne(opts: UnpackLayersOptions, layer: UnpackLayer, i: number, chains: readonly Digest[], below: Promise<void> | undefined, slots: Limiter): Promise<void> {
  const { snapshotter } = opts;
  const diffID = opts.diffIDs[i] as Digest;
  const chain = chains[i] as Digest;
  const parent = chains[i - 1];
  await withLock(snapshotter, chain, async () => {
    if (await isCommitted(snapshotter, chain)) return;
    await removeStale(snapshotter, chain);
    const key = `extract-${randomBytes(6).toString("hex")} ${chain}`;
    const mounts = await snapshotter.prepare(key, undefined, { labels: { [UNPACK_LABEL]: chain } });
    try {
      const applied = await slots.run(() => (opts.apply ?? applyInThread)(writableDir(mounts, key), layer, {
        ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
        ...(opts.onSkip === undefined ? {} : { onSkip: opts.onSkip }),
      }));
      if (applied.diffID !== diffID) {
        throw new FailedPreconditionError(`layer ${i} (${layer.descriptor.digest}) has diffID ${applied.diffID}, image config says ${diffID}`);
      }
      await below; // the layer under this one is committed (or its failure fails this one too)
      await snapshotter.commit(chain, key, parent === undefined ? {} : { parent });
    } catch (err) {
      await snapshotter.remove(key).catch(() => {});
      throw err;
    }
  });
}

/** Removes active snapshots that an earlier, interrupted unpack of `chain` left (the lock is held). */
async function removeStale(snapshotter: Snapshotter, chain: string): Promise<void> {
  for (const info of await snapshotter.walk()) {
    if (info.kind === "active" && info.labels[UNPACK_LABEL] === chain) await snapshotter.remove(info.name).catch(() => {});
  }
}
