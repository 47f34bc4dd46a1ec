/**
 * An image's layers as unpacked on this node: the committed snapshots from its top chain
 * ID down to its base (each snapshot's parent is the layer below), and the bytes they take.
 */
import { isNotFound } from "../errdefs/index.js";
import type { Digest } from "../oci/index.js";
import type { ImageRecord, ImageStore, Snapshotter } from "../store/index.js";

/** The record field for the top chain ID of layer snapshots `chains` (base first); none for an image without layers. */
export function topChain(chains: readonly Digest[]): { chainID?: Digest } {
  const top = chains[chains.length - 1];
  return top === undefined ? {} : { chainID: top };
}

/** The layer snapshots under `top`, base first; a chain cut short by a missing snapshot ends there. */
export async function layerSnapshots(snapshotter: Snapshotter, top: string): Promise<string[]> {
  const chain: string[] = [];
  for (let name: string | undefined = top; name !== undefined;) {
    try {
      const info = await snapshotter.stat(name);
      chain.push(name);
      name = info.parent;
    } catch (err) {
      if (isNotFound(err)) break;
      throw err;
    }
  }
  return chain.reverse();
}

/** The bytes each layer snapshot takes on disk, in the order given. */
export async function layerSizes(snapshotter: Snapshotter, chains: readonly string[]): Promise<number[]> {
  return Promise.all(chains.map(async (c) => (await snapshotter.usage(c)).size));
}

/**
 * The unpacked size of the image `configDigest` with layer snapshots `chains`: what a
 * record of the same image already says, else the snapshots' usage summed.
 */
export async function unpackedSize(deps: { images: ImageStore; snapshotter: Snapshotter }, configDigest: Digest, chains: readonly string[]): Promise<number> {
  const known = deps.images.byConfigDigest(configDigest).find((r: ImageRecord) => r.unpackedSize !== undefined);
  if (known?.unpackedSize !== undefined) return known.unpackedSize;
  return (await layerSizes(deps.snapshotter, chains)).reduce((a, b) => a + b, 0);
}
