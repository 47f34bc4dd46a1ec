/**
 * Pushing one image: every blob the registry lacks (mounted from another repository
 * of the same registry when one is known to hold it), then the manifests, the
 * referenced ones before the index, the tag last.
 */
import type { Readable } from "node:stream";
import { NotFoundError } from "../errdefs/index.js";
import { parseManifest, type Descriptor, type Digest } from "../oci/index.js";
import type { Reference } from "../reference/index.js";
import type { ImageRecord } from "../store/index.js";
import type { PushClient } from "./types.js";

export interface PushDeps {
  readBlob(digest: Digest): Promise<Buffer>;
  openBlob(digest: Digest): Promise<Readable>;
  hasBlob(digest: Digest): Promise<boolean>;
  /** repositories on the same registry that this node pulled `digest` from (mount sources) */
  mountSources(ref: Reference, digest: Digest): Promise<string[]>;
}

export type PushEvent = { digest: Digest; status: "Preparing" | "Layer already exists" | "Mounted" | "Pushing" | "Pushed"; size?: number };

async function pushBlob(deps: PushDeps, client: PushClient, ref: Reference, desc: Descriptor, progress: (e: PushEvent) => void): Promise<void> {
  const repo = ref.path;
  progress({ digest: desc.digest, status: "Preparing" });
  if (await client.blobExists(repo, desc.digest)) {
    progress({ digest: desc.digest, status: "Layer already exists" });
    return;
  }
  for (const from of await deps.mountSources(ref, desc.digest)) {
    if (from !== repo && (await client.mountBlob(repo, desc.digest, from))) {
      progress({ digest: desc.digest, status: "Mounted", size: desc.size });
      return;
    }
  }
  if (!(await deps.hasBlob(desc.digest))) {
    throw new NotFoundError(`blob ${desc.digest} of ${ref.toString()} is not in the content store (was it pulled for another platform?)`);
  }
  progress({ digest: desc.digest, status: "Pushing", size: desc.size });
  await client.pushBlob(repo, await deps.openBlob(desc.digest), { digest: desc.digest, size: desc.size });
  progress({ digest: desc.digest, status: "Pushed", size: desc.size });
}

/** Pushes the manifest (or index) `desc` and, first, everything it references that is here. */
async function pushTree(deps: PushDeps, client: PushClient, ref: Reference, desc: Descriptor, progress: (e: PushEvent) => void): Promise<void> {
  const bytes = await deps.readBlob(desc.digest);
  const parsed = parseManifest(bytes, desc.mediaType);
  if (parsed.kind === "index") {
    for (const child of parsed.body.manifests) {
      if (await deps.hasBlob(child.digest)) await pushTree(deps, client, ref, child, progress);
    }
  } else {
    await pushBlob(deps, client, ref, parsed.body.config, progress);
    for (const layer of parsed.body.layers) await pushBlob(deps, client, ref, layer, progress);
  }
  await client.putManifest(ref.path, desc.digest, bytes, parsed.mediaType);
}

/** True when every manifest an index lists is stored here (so the whole index can be pushed). */
async function isComplete(deps: PushDeps, desc: Descriptor): Promise<boolean> {
  const parsed = parseManifest(await deps.readBlob(desc.digest), desc.mediaType);
  if (parsed.kind === "manifest") return true;
  for (const child of parsed.body.manifests) {
    if (!(await deps.hasBlob(child.digest)) || !(await isComplete(deps, child))) return false;
  }
  return true;
}

/**
 * Pushes an image under `ref`. An index whose other platforms were never pulled is
 * pushed as this node's platform manifest alone, as docker does.
 */
export async function pushImage(
  deps: PushDeps,
  client: PushClient,
  opts: { ref: Reference; record: ImageRecord; onProgress?: (e: PushEvent) => void },
): Promise<{ digest: Digest; size: number }> {
  const { ref, record } = opts;
  const progress = opts.onProgress ?? (() => {});
  let top: Descriptor = record.target;
  if (!(await isComplete(deps, top))) {
    const bytes = await deps.readBlob(record.manifestDigest);
    top = { mediaType: parseManifest(bytes, undefined).mediaType, digest: record.manifestDigest, size: bytes.length };
  }
  await pushTree(deps, client, ref, top, progress);
  const bytes = await deps.readBlob(top.digest);
  if (ref.tag !== undefined) await client.putManifest(ref.path, ref.tag, bytes, top.mediaType);
  return { digest: top.digest, size: bytes.length };
}
