import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createWriteStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { isNotFound } from "../../../src/errdefs/index.js";
import { loadArchive, saveImages } from "../../../src/images/index.js";
import { REF_NAME_ANNOTATION, digestEncoded, digestOf, type Digest, type ImageIndex } from "../../../src/oci/index.js";
import { cleanup, freshNode, haveSkopeo, nodeWithImage, readTar, skopeo, tempDir } from "./archive-fixture.js";

after(cleanup);

void test("oci-archive: a tar of an OCI layout whose index names the image in full; skopeo reads it", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const { env, src } = node;
  const details = await env.imageService.details(src.ref);
  const out = join(await tempDir(), "busybox.tar");
  await saveImages(env.imageService, [src.ref], out, { format: "oci-archive" });

  const entries = await readTar(out);
  assert.deepEqual(JSON.parse(entries.get("oci-layout")?.body.toString() ?? ""), { imageLayoutVersion: "1.0.0" });
  const index = JSON.parse(entries.get("index.json")?.body.toString() ?? "") as ImageIndex;
  assert.equal(index.manifests.length, 1);
  const [target] = index.manifests;
  assert.equal(target?.digest, details.record.target.digest);
  assert.equal(target?.annotations?.[REF_NAME_ANNOTATION], src.ref);
  assert.equal(target?.annotations?.["io.containerd.image.name"], src.ref);
  for (const d of [details.record.manifestDigest, details.manifest.config.digest, ...details.manifest.layers.map((l) => l.digest)]) {
    const blob = entries.get(`blobs/sha256/${digestEncoded(d)}`);
    assert.ok(blob, `blob ${d} in the archive`);
    assert.equal(digestOf(blob.body), d);
  }
  assert.deepEqual((await readdir(join(out, ".."))).filter((n) => n.includes(".tmp-")), [], "no temporary file left");

  if (!(await haveSkopeo(t))) return;
  const inspected = JSON.parse(await skopeo("inspect", `oci-archive:${out}`)) as { Digest: Digest; Layers: Digest[] };
  assert.equal(inspected.Digest, details.record.target.digest);
  assert.deepEqual(inspected.Layers, details.manifest.layers.map((l) => l.digest));
  const copy = join(await tempDir(), "layout");
  await skopeo("copy", `oci-archive:${out}`, `oci:${copy}:copied`);
  const copied = JSON.parse(await skopeo("inspect", "--raw", `oci:${copy}:copied`)) as { config: { digest: Digest } };
  assert.equal(copied.config.digest, details.record.configDigest);
});

void test("docker-archive: manifest.json, the config, uncompressed layers named by diffID; skopeo reads it", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const { env, src } = node;
  const details = await env.imageService.details(src.ref);
  const diffIDs = details.config.rootfs.diff_ids;
  const out = join(await tempDir(), "busybox.tar");
  await saveImages(env.imageService, [src.ref], out, { format: "docker-archive" });

  const entries = await readTar(out);
  const manifest = JSON.parse(entries.get("manifest.json")?.body.toString() ?? "") as { Config: string; RepoTags: string[]; Layers: string[] }[];
  const configFile = `${digestEncoded(details.record.configDigest)}.json`;
  assert.deepEqual(manifest, [{ Config: configFile, RepoTags: [src.ref], Layers: diffIDs.map((d) => `${digestEncoded(d)}/layer.tar`) }]);
  assert.equal(digestOf(entries.get(configFile)?.body ?? Buffer.alloc(0)), details.record.configDigest);
  for (const d of diffIDs) assert.equal(digestOf(entries.get(`${digestEncoded(d)}/layer.tar`)?.body ?? Buffer.alloc(0)), d, "layer stored uncompressed");
  const repositories = JSON.parse(entries.get("repositories")?.body.toString() ?? "") as Record<string, Record<string, string>>;
  assert.deepEqual(repositories, { [src.ref.replace(/:latest$/, "")]: { latest: digestEncoded(diffIDs[diffIDs.length - 1] as Digest) } });

  if (!(await haveSkopeo(t))) return;
  const inspected = JSON.parse(await skopeo("inspect", `docker-archive:${out}`)) as { Layers: Digest[]; RepoTags: string[] };
  assert.deepEqual(inspected.Layers, diffIDs);
  const copy = join(await tempDir(), "layout");
  await skopeo("copy", `docker-archive:${out}`, `oci:${copy}:copied`);
  const copied = JSON.parse(await skopeo("inspect", "--raw", `oci:${copy}:copied`)) as { config: { digest: Digest } };
  assert.equal(copied.config.digest, details.record.configDigest);
});

for (const format of ["oci-archive", "docker-archive"] as const) {
  void test(`${format}: save, then load into a fresh node, gives the same image ID and diffIDs`, async (t) => {
    const node = await nodeWithImage(t);
    if (!node) return;
    const { env, src } = node;
    env.imageService.tag(src.ref, "example.com/team/bb:v2");
    const before = await env.imageService.details(src.ref);
    const out = join(await tempDir(), "images.tar");
    await saveImages(env.imageService, [src.ref, "example.com/team/bb:v2"], out, { format });

    const fresh = await freshNode();
    const loaded = await loadArchive(fresh.imageService, out);
    assert.deepEqual(loaded.names.sort(), ["example.com/team/bb:v2", src.ref].sort());
    assert.deepEqual(loaded.digests, [before.record.configDigest]);
    for (const name of loaded.names) {
      const after = await fresh.imageService.details(name);
      assert.equal(after.record.configDigest, before.record.configDigest);
      assert.deepEqual(after.config.rootfs.diff_ids, before.config.rootfs.diff_ids);
      if (format === "oci-archive") assert.equal(after.record.target.digest, before.record.target.digest, "the manifest travels unchanged");
    }
  });
}

void test("save to a stream; an image saved by ID has no name", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const { env, src } = node;
  const id = env.imageService.find(src.ref).record.configDigest;
  const out = join(await tempDir(), "by-id.tar");
  const stream = createWriteStream(out);
  await saveImages(env.imageService, [id.slice(7, 19)], stream, { format: "oci-archive" });
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const index = JSON.parse((await readTar(out)).get("index.json")?.body.toString() ?? "") as ImageIndex;
  assert.equal(index.manifests[0]?.annotations, undefined);

  const fresh = await freshNode();
  const loaded = await loadArchive(fresh.imageService, out);
  assert.deepEqual(loaded.names, []);
  assert.deepEqual(loaded.digests, [id]);
});

void test("saving an unknown image fails before any file is written", async (t) => {
  const node = await nodeWithImage(t);
  if (!node) return;
  const dir = await tempDir();
  const out = join(dir, "x.tar");
  await assert.rejects(saveImages(node.env.imageService, [node.src.ref, "nosuch:latest"], out, { format: "docker-archive" }), (err) => isNotFound(err));
  await assert.rejects(stat(out));
  assert.deepEqual(await readdir(dir), []);
});
