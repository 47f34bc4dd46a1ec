import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream, createWriteStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack } from "tar-stream";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { loadArchive, saveImages } from "../../../src/images/index.js";
import { REF_NAME_ANNOTATION, digestEncoded, readImageLayout } from "../../../src/oci/index.js";
import { cleanup, corruptTarEntry, freshNode, haveSkopeo, listFiles, nodeWithImage, skopeo, sourceImage, tempDir } from "./archive-fixture.js";
import { inspectImage } from "../../../src/cli/image/inspect-image.js";

after(cleanup);

/** Packs the files of `dir` (relative paths in `order`, default sorted) into a tar at `out`. */
async function tarOf(dir: string, out: string, order?: (paths: string[]) => string[], gzip = false): Promise<void> {
  const paths = (order ?? ((p) => p))(await listFiles(dir));
  const p = pack();
  const writing = gzip ? pipeline(p, createGzip(), createWriteStream(out)) : pipeline(p, createWriteStream(out));
  for (const path of paths) {
    const body = await readFile(join(dir, path));
    await new Promise<void>((resolve, reject) => p.entry({ name: path, size: body.length }, body, (err) => (err ? reject(err) : resolve())));
  }
  p.finalize();
  await writing;
}

void test("an oci-archive made by skopeo loads under the name in its ref.name annotation", async (t) => {
  const src = await sourceImage(t);
  if (!src || !(await haveSkopeo(t))) return;
  const archive = join(await tempDir(), "bb.tar");
  await skopeo("copy", `oci:${src.built.dir}:latest`, `oci-archive:${archive}:docker.io/library/bb:v1`);
  const env = await freshNode();
  const loaded = await loadArchive(env.imageService, archive);
  assert.deepEqual(loaded.names, ["docker.io/library/bb:v1"]);
  assert.deepEqual(loaded.digests, [src.built.manifest.config.digest]);
  const listed = env.imageService.list().map((r) => [r.name, r.configDigest]);
  assert.deepEqual(listed, [["docker.io/library/bb:v1", src.built.manifest.config.digest]]);
});

void test("a docker-archive made by skopeo loads under its RepoTags", async (t) => {
  const src = await sourceImage(t);
  if (!src || !(await haveSkopeo(t))) return;
  const archive = join(await tempDir(), "bb.tar");
  await skopeo("copy", `oci:${src.built.dir}:latest`, `docker-archive:${archive}:bb:v1`);
  const env = await freshNode();
  const loaded = await loadArchive(env.imageService, archive);
  assert.deepEqual(loaded.names, ["docker.io/library/bb:v1"]);
  const details = await env.imageService.details("bb:v1");
  assert.equal(details.record.configDigest, src.built.manifest.config.digest);
  assert.deepEqual(details.config.rootfs.diff_ids, src.built.config.rootfs.diff_ids);
  assert.deepEqual(details.manifest.layers.map((l) => [l.mediaType, l.digest]), src.built.config.rootfs.diff_ids.map((d) => ["application/vnd.oci.image.layer.v1.tar", d]));
});

void test("an OCI layout tar with entries in any order, gzipped, loads; a bare-tag ref.name gives no name", async (t) => {
  const src = await sourceImage(t);
  if (!src) return;
  const layout = await readImageLayout(src.built.dir);
  assert.equal(layout.manifestDescriptor.annotations?.[REF_NAME_ANNOTATION], "latest");
  const archive = join(await tempDir(), "reversed.tar.gz");
  await tarOf(src.built.dir, archive, (paths) => [...paths].reverse(), true); // oci-layout and index.json come first, blobs after
  const env = await freshNode();
  const loaded = await loadArchive(env.imageService, archive);
  assert.deepEqual(loaded.names, []);
  assert.deepEqual(loaded.digests, [src.built.manifest.config.digest]);
  assert.equal(loaded.images[0]?.target.digest, layout.manifestDescriptor.digest);
  // kept as a dangling image (docker's <none>:<none>), its one record named by its ID
  assert.deepEqual(env.imageService.list().map((r) => [r.name, r.configDigest]), [[src.built.manifest.config.digest, src.built.manifest.config.digest]]);
});

void test("an oci-archive with a flipped byte in a layer blob fails naming the file, and registers nothing", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const { env, src } = node;
  const details = await env.imageService.details(src.ref);
  const archive = join(await tempDir(), "bad.tar");
  await saveImages(env.imageService, [src.ref], archive, { format: "oci-archive" });
  const layer = `blobs/sha256/${digestEncoded(details.manifest.layers[0]?.digest ?? "sha256:")}`;
  await corruptTarEntry(archive, layer);
  const fresh = await freshNode();
  await assert.rejects(loadArchive(fresh.imageService, archive), (err: Error) => {
    assert.ok(isInvalidArgument(err), err.message);
    assert.match(err.message, new RegExp(`${layer}: digest mismatch`));
    return true;
  });
  assert.deepEqual(fresh.imageService.list(), []);
});

void test("a docker-archive with a flipped byte in a layer.tar fails naming the file, and registers nothing", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const { env, src } = node;
  const details = await env.imageService.details(src.ref);
  const archive = join(await tempDir(), "bad.tar");
  await saveImages(env.imageService, [src.ref], archive, { format: "docker-archive" });
  const layer = `${digestEncoded(details.config.rootfs.diff_ids[0] ?? "sha256:")}/layer.tar`;
  await corruptTarEntry(archive, layer);
  const fresh = await freshNode();
  await assert.rejects(loadArchive(fresh.imageService, archive), (err: Error) => {
    assert.ok(isInvalidArgument(err), err.message);
    assert.match(err.message, new RegExp(`${layer}: digest mismatch`));
    return true;
  });
  assert.deepEqual(fresh.imageService.list(), []);
});

void test("inspect after loading a docker-archive shows no RepoDigests; after an oci-archive or a pull it shows the registry's digest", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const { env, src } = node;
  const repo = src.ref.slice(0, src.ref.lastIndexOf(":"));
  const pulled = await inspectImage(env.imageService, src.ref) as { RepoDigests: string[] };
  const digest = env.imageService.find(src.ref).record.target.digest;
  assert.deepEqual(pulled.RepoDigests, [`${repo}@${digest}`]);
  const dir = await tempDir();
  for (const format of ["docker-archive", "oci-archive"] as const) {
    const archive = join(dir, `${format}.tar`);
    await saveImages(env.imageService, [src.ref], archive, { format });
    const fresh = await freshNode();
    await loadArchive(fresh.imageService, archive);
    const loaded = await inspectImage(fresh.imageService, src.ref) as { RepoDigests: string[] };
    if (format === "oci-archive") {
      assert.deepEqual(loaded.RepoDigests, [`${repo}@${digest}`], "an oci-archive keeps the registry's digest");
      continue;
    }
    assert.deepEqual(loaded.RepoDigests, [], "a docker-archive holds no registry digest");
    fresh.imageService.tag(src.ref, "docker.io/library/retagged:v1");
    const tagged = await inspectImage(fresh.imageService, "retagged:v1") as { RepoDigests: string[] };
    assert.deepEqual(tagged.RepoDigests, [], "nor does a new name for it");
    await fresh.imageService.pull(src.ref);
    const repulled = await inspectImage(fresh.imageService, src.ref) as { RepoDigests: string[] };
    assert.deepEqual(repulled.RepoDigests, [`${repo}@${digest}`], "a pull of the name brings the registry's digest");
  }
});

void test("a stream loads like a file", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const archive = join(await tempDir(), "s.tar");
  await saveImages(node.env.imageService, [node.src.ref], archive, { format: "docker-archive" });
  const fresh = await freshNode();
  const loaded = await loadArchive(fresh.imageService, createReadStream(archive));
  assert.deepEqual(loaded.names, [node.src.ref]);
});

void test("files that are no image archive are refused", async () => {
  const env = await freshNode();
  const dir = await tempDir();
  const notTar = join(dir, "not.tar");
  await writeFile(notTar, "hello, this is not a tar archive at all".repeat(20));
  await assert.rejects(loadArchive(env.imageService, notTar), (err: Error) => isInvalidArgument(err));
  const emptyTar = join(dir, "empty.tar");
  const srcDir = await tempDir();
  await writeFile(join(srcDir, "README"), "no images here\n");
  await tarOf(srcDir, emptyTar);
  await assert.rejects(loadArchive(env.imageService, emptyTar), /is not an image archive/);
});
