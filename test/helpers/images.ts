/** Test fixtures for the image service: a temporary node home, and images pushed to a test registry. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openNodeEnv, type NodeEnv } from "../../src/cli/node-env.js";
import { buildBusyboxImage, type BuiltBusyboxImage } from "../../src/cli/tutorial/busybox-rootfs.js";
import { digestEncoded, type Descriptor, type LayerEntry } from "../../src/oci/index.js";
import { RegistryClient } from "../../src/registry/client/index.js";

export interface TestNode {
  env: NodeEnv;
  home: string;
  close(): Promise<void>;
}

export async function openTestNode(opts: { concurrency?: number } = {}): Promise<TestNode> {
  const home = await mkdtemp(join(tmpdir(), "podyard-node-"));
  const env = await openNodeEnv({ home, ...opts }).catch(async (err: unknown) => {
    await rm(home, { recursive: true, force: true });
    throw err;
  });
  return {
    env,
    home,
    close: async () => {
      env.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Builds the busybox image (plus extra layers) into a temporary OCI layout. */
export async function buildTestImage(opts: { extraLayers?: { entries: LayerEntry[]; createdBy?: string }[] } = {}): Promise<BuiltBusyboxImage & { cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-image-"));
  const built = await buildBusyboxImage({ dir, tag: "latest", ...(opts.extraLayers ? { extraLayers: opts.extraLayers } : {}) });
  return { ...built, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Pushes an OCI layout's image to `url` as `repo:tag` and returns the manifest descriptor. */
export async function pushLayout(url: string, repo: string, tag: string, image: BuiltBusyboxImage): Promise<Descriptor> {
  const client = new RegistryClient({ baseUrl: url });
  const blob = (d: string): string => join(image.dir, "blobs", "sha256", digestEncoded(d as `sha256:${string}`));
  for (const d of [image.manifest.config, ...image.manifest.layers]) {
    await client.pushBlob(repo, createReadStream(blob(d.digest)), { digest: d.digest, size: d.size });
  }
  const bytes = await readFile(blob(image.manifestDescriptor.digest));
  await client.putManifest(repo, tag, bytes, image.manifestDescriptor.mediaType);
  return image.manifestDescriptor;
}
