/** Test fixtures for the image service: a temporary node home, and images pushed to a test registry. */
import type { TestContext } from "node:test";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { createReadStream } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openNodeEnv, type NodeEnv } from "../../src/cli/node-env.js";
import { buildBusyboxImage, type BuiltBusyboxImage } from "../../src/cli/tutorial/busybox-rootfs.js";
import { isFailedPrecondition } from "../../src/errdefs/index.js";
import { digestEncoded, type Descriptor, type Digest, type LayerEntry } from "../../src/oci/index.js";
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
export async function pushLayout(url: string, repo: string, tag: string, image: BuiltBusyboxImage, opts: { credentials?: { username: string; password: string } } = {}): Promise<Descriptor> {
  const client = new RegistryClient({ baseUrl: url, ...(opts.credentials ? { credentials: opts.credentials } : {}) });
  const blob = (d: string): string => join(image.dir, "blobs", "sha256", digestEncoded(d as `sha256:${string}`));
  for (const d of [image.manifest.config, ...image.manifest.layers]) {
    await client.pushBlob(repo, createReadStream(blob(d.digest)), { digest: d.digest, size: d.size });
  }
  const bytes = await readFile(blob(image.manifestDescriptor.digest));
  await client.putManifest(repo, tag, bytes, image.manifestDescriptor.mediaType);
  return image.manifestDescriptor;
}

/** The tutorial's busybox image as an OCI layout, with the digests tests compare against. */
export interface SourceImage {
  built: BuiltBusyboxImage;
  dir: string;
  manifestDigest: Digest;
  configDigest: Digest;
  layerDigests: Digest[];
  diffIDs: Digest[];
}

/**
 * A source image built once per test file, on first use. A test that asks for it is skipped,
 * saying why, when Debian's busybox is missing. The directory name is lower-case: podman
 * names an image pulled from `oci:<dir>` after it. Call `remove` from the file's `after`.
 */
export function sharedSourceImage(opts: { prefix: string; extraLayers?: { entries: LayerEntry[]; createdBy?: string }[] }): {
  get(t: TestContext): Promise<SourceImage | undefined>;
  remove(): Promise<void>;
} {
  let parent: string | undefined;
  let building: Promise<SourceImage | Error> | undefined;
  const build = async (): Promise<SourceImage | Error> => {
    parent = join(tmpdir(), `${opts.prefix}-${randomBytes(6).toString("hex")}`);
    await mkdir(parent, { mode: 0o700 });
    const dir = join(parent, "layout");
    try {
      const built = await buildBusyboxImage({ dir, tag: "latest", ...(opts.extraLayers ? { extraLayers: opts.extraLayers } : {}) });
      return {
        built,
        dir,
        manifestDigest: built.manifestDescriptor.digest,
        configDigest: built.manifest.config.digest,
        layerDigests: built.manifest.layers.map((l) => l.digest),
        diffIDs: built.config.rootfs.diff_ids,
      };
    } catch (err) {
      if (isFailedPrecondition(err)) return err as Error;
      throw err;
    }
  };
  return {
    get: async (t) => {
      building ??= build();
      const s = await building;
      if (s instanceof Error) {
        t.skip(`cannot build the busybox image: ${s.message}`);
        return undefined;
      }
      return s;
    },
    remove: async () => {
      if (parent !== undefined) await rm(parent, { recursive: true, force: true });
    },
  };
}

/** The file of a blob in an OCI layout. */
export function layoutBlobPath(layout: string, digest: string): string {
  const [alg, hex] = digest.split(":");
  return join(layout, "blobs", alg ?? "", hex ?? "");
}
