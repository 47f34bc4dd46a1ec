/**
 * The main job, for now: the tutorial's image half. A podyard registry (the
 * tutorial's "docker-hub") starts on loopback; an image built from Debian's busybox
 * is pushed to it with podyard's registry client and pulled back by digest, every
 * byte verified. Later parts of podyard turn this into the whole tutorial (pods).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { digestEncoded, MediaType, type Descriptor, type Digest, type ImageManifest } from "../../oci/index.js";
import { parseNormalizedNamed } from "../../reference/index.js";
import { RegistryClient } from "../../registry/client/index.js";
import { RegistryServer } from "../../registry/server/index.js";
import { openNodeEnv } from "../node-env.js";
import { buildBusyboxImage } from "./busybox-rootfs.js";

export interface TutorialOptions {
  keep: boolean;
  out?: (line: string) => void;
}

const REPOSITORY = "tutorial/busybox";

function mb(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

function short(d: Digest): string {
  return digestEncoded(d).slice(0, 12);
}

export async function runTutorial(opts: TutorialOptions): Promise<void> {
  const say = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const work = await mkdtemp(join(tmpdir(), "podyard-tutorial-"));
  const server = new RegistryServer({ root: join(work, "registry") });
  const t0 = performance.now();
  try {
    const url = await server.listen(0, "127.0.0.1");
    const host = new URL(url).host;
    say(`==> Registry ("docker-hub") listening on ${url}, storage ${join(work, "registry")}`);

    say("==> Building an image from Debian's busybox, one layer");
    const image = await buildBusyboxImage({ dir: join(work, "image"), tag: "latest" });
    for (const l of image.layers) say(`    layer  ${l.descriptor.digest}  ${mb(l.descriptor.size)}  (${l.createdBy ?? ""})`);
    say(`    config ${image.manifest.config.digest}`);
    say(`    image  ${image.manifestDescriptor.digest}`);

    const ref = parseNormalizedNamed(`${host}/${REPOSITORY}:latest`);
    say(`==> Pushing ${ref.toString()}`);
    const client = new RegistryClient({ baseUrl: url });
    const blobPath = (d: Digest): string => join(image.dir, "blobs", "sha256", digestEncoded(d));
    const blobs: Descriptor[] = [image.manifest.config, ...image.manifest.layers];
    for (const desc of blobs) {
      if (await client.blobExists(ref.path, desc.digest)) {
        say(`    ${short(desc.digest)}: Layer already exists`);
        continue;
      }
      await client.pushBlob(ref.path, createReadStream(blobPath(desc.digest)), { digest: desc.digest, size: desc.size });
      say(`    ${short(desc.digest)}: Pushed ${mb(desc.size)}`);
    }
    const manifestBytes = await readFile(blobPath(image.manifestDescriptor.digest));
    const pushed = await client.putManifest(ref.path, "latest", manifestBytes, MediaType.ociManifest);
    say(`    latest: digest: ${pushed} size: ${manifestBytes.length}`);

    const byDigest = parseNormalizedNamed(`${host}/${REPOSITORY}@${pushed}`);
    say(`==> Pulling ${byDigest.toString()}`);
    const fresh = new RegistryClient({ baseUrl: url });
    const manifest = await fresh.getManifest(byDigest.path, pushed);
    const body = JSON.parse(manifest.bytes.toString("utf8")) as ImageManifest;
    const pulledDir = join(work, "pulled");
    await mkdir(pulledDir, { recursive: true });
    for (const desc of [body.config, ...body.layers]) {
      const file = join(pulledDir, digestEncoded(desc.digest));
      await pipeline(await fresh.fetchBlob(byDigest.path, desc.digest, { size: desc.size }), createWriteStream(file));
      const same = Buffer.compare(await readFile(file), await readFile(blobPath(desc.digest))) === 0;
      if (!same) throw new Error(`blob ${desc.digest} came back different from what was pushed`);
      say(`    ${short(desc.digest)}: Pull complete, ${mb((await stat(file)).size)}, digest verified`);
    }
    say(`    Digest: ${manifest.digest}`);
    if (!manifest.bytes.equals(manifestBytes)) throw new Error("the manifest came back different from what was pushed");
    say(`    Status: Downloaded ${byDigest.toString()}`);

    const tags = await fresh.tags(ref.path);
    say(`==> ${ref.path} has tags: ${tags.join(", ")}`);

    say(`==> Pulling ${byDigest.toString()} into a node's image store (content store, read-only layer snapshots)`);
    const node = await openNodeEnv({ home: join(work, "node") });
    try {
      const pulled = await node.imageService.pull(byDigest.toString());
      const snapshots = await node.snapshotter.walk();
      say(`    image ID ${pulled.configDigest}, ${snapshots.filter((x) => x.kind === "committed").length} read-only layer snapshot(s)`);
      const countBlobs = async (): Promise<number> => {
        let n = 0;
        for await (const _ of node.content.walk()) n++;
        return n;
      };
      const blobsBefore = await countBlobs();
      const again = await node.imageService.pull(`${host}/${REPOSITORY}:latest`);
      const after = await node.snapshotter.walk();
      say(`    pulled again as ${again.name}: ${(await countBlobs()) - blobsBefore} new blob(s), still ${after.length} snapshot(s): layers are shared`);
    } finally {
      node.close();
    }
    say(`==> Done in ${((performance.now() - t0) / 1000).toFixed(2)} s: manifest, config and ${body.layers.length} layer(s) pulled by digest are byte-identical to what was pushed`);
  } finally {
    await server.close();
    if (opts.keep) say(`    kept ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}
