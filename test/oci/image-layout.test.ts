import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { digestOf } from "../../src/oci/digest.js";
import {
  imageConfig, ociArchitecture, readImageLayout, writeImageLayout, writeLayoutLayer, REF_NAME_ANNOTATION, type LayoutLayer,
} from "../../src/oci/image-layout.js";
import type { LayerEntry } from "../../src/oci/layer-tar.js";

const run = promisify(execFile);

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-layout-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const BASE: LayerEntry[] = [
  { type: "dir", path: "bin" },
  { type: "file", path: "bin/hello", content: Buffer.from("#!/bin/sh\necho hello\n"), mode: 0o755 },
  { type: "dir", path: "tmp", mode: 0o1777 },
];
const TOP: LayerEntry[] = [{ type: "file", path: "etc/motd", content: Buffer.from("hi\n") }];

async function twoLayers(dir: string): Promise<LayoutLayer[]> {
  return [
    await writeLayoutLayer(dir, BASE, { createdBy: "base" }),
    await writeLayoutLayer(dir, TOP, { createdBy: "top", gzipLevel: 9 }),
  ];
}

async function skopeoVersion(): Promise<string | undefined> {
  try {
    return (await run("skopeo", ["--version"])).stdout.trim();
  } catch {
    return undefined;
  }
}

void test("ociArchitecture maps Node names to OCI names", () => {
  assert.equal(ociArchitecture("x64"), "amd64");
  assert.equal(ociArchitecture("arm64"), "arm64");
  assert.equal(ociArchitecture("ia32"), "386");
});

void test("a written layout reads back with the same manifest, config and blobs", async () => {
  await withTempDir(async (dir) => {
    const layers = await twoLayers(dir);
    const written = await writeImageLayout(dir, { layers, tag: "latest" });

    assert.deepEqual(JSON.parse(await readFile(join(dir, "oci-layout"), "utf8")), { imageLayoutVersion: "1.0.0" });
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: unknown[] };
    assert.deepEqual(index.manifests, [written.manifestDescriptor]);
    assert.equal(written.manifestDescriptor.annotations?.[REF_NAME_ANNOTATION], "latest");
    assert.equal(written.manifestDescriptor.mediaType, "application/vnd.oci.image.manifest.v1+json");

    const c = written.config;
    assert.equal(c.created, "1970-01-01T00:00:00Z");
    assert.equal(c.architecture, ociArchitecture(process.arch));
    assert.equal(c.os, "linux");
    assert.deepEqual(c.config?.Cmd, ["/bin/sh"]);
    assert.equal(c.config?.WorkingDir, "/");
    assert.match(c.config?.Env?.[0] ?? "", /^PATH=.*\/usr\/bin.*\/bin$/);
    assert.deepEqual(c.rootfs, { type: "layers", diff_ids: layers.map((l) => l.diffID) });
    assert.deepEqual(c.history?.map((h) => h.created_by), ["base", "top"]);

    const read = await readImageLayout(dir, "latest");
    assert.deepEqual(read.manifestDescriptor, written.manifestDescriptor);
    assert.deepEqual(read.manifest, written.manifest);
    assert.deepEqual(read.config, written.config);
    for (const l of read.manifest.layers) {
      const blob = await readFile(read.blobPath(l.digest));
      assert.equal(digestOf(blob), l.digest);
      assert.equal(blob.byteLength, l.size);
    }
    assert.deepEqual((await readImageLayout(dir)).manifestDescriptor, written.manifestDescriptor, "the only image needs no tag");
    const blobs = await readdir(join(dir, "blobs", "sha256"));
    assert.equal(blobs.length, 4, `2 layers + config + manifest, no temporary files: ${blobs.join(", ")}`);
  });
});

void test("writing is reproducible, and tags replace only their own entry", async () => {
  await withTempDir(async (dir) => {
    const a = await writeImageLayout(dir, { layers: await twoLayers(dir) });
    const again = await writeImageLayout(dir, { layers: await twoLayers(dir) });
    assert.equal(again.manifestDescriptor.digest, a.manifestDescriptor.digest);
    const base = await writeImageLayout(dir, { layers: [await writeLayoutLayer(dir, BASE, { createdBy: "base" })], tag: "base" });
    const index = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as { manifests: { annotations: Record<string, string> }[] };
    assert.deepEqual(index.manifests.map((m) => m.annotations[REF_NAME_ANNOTATION]), ["latest", "base"]);
    assert.equal((await readImageLayout(dir, "base")).manifestDescriptor.digest, base.manifestDescriptor.digest);
    await assert.rejects(readImageLayout(dir), { code: "InvalidArgument" }, "two images: a tag is required");
    await assert.rejects(readImageLayout(dir, "nope"), { code: "NotFound" });
  });
});

void test("mismatched diff_ids, corrupt blobs and non-layouts are rejected", async () => {
  await withTempDir(async (dir) => {
    const layers = await twoLayers(dir);
    const first = layers[0];
    assert.ok(first);
    await assert.rejects(writeImageLayout(dir, { layers, config: imageConfig([first]) }), { code: "InvalidArgument" });
    const written = await writeImageLayout(dir, { layers });
    await writeFile(join(dir, "blobs", "sha256", written.manifest.config.digest.slice(7)), "{}");
    await assert.rejects(readImageLayout(dir, "latest"), { code: "FailedPrecondition" });
    await assert.rejects(readImageLayout(join(dir, "blobs")), { code: "InvalidArgument" });
  });
});

void test("skopeo accepts the layout (inspect and copy)", async (t) => {
  const version = await skopeoVersion();
  if (version === undefined) {
    console.log("skopeo not on PATH (scripts/setup.sh installs it): skipping the skopeo cross-check");
    t.skip("skopeo not installed");
    return;
  }
  await withTempDir(async (dir) => {
    const layers = await twoLayers(dir);
    const written = await writeImageLayout(dir, { layers });
    const out = await run("skopeo", ["inspect", `oci:${dir}:latest`]);
    const info = JSON.parse(out.stdout) as { Digest: string; Layers: string[]; Architecture: string; Os: string };
    assert.equal(info.Digest, written.manifestDescriptor.digest);
    assert.deepEqual(info.Layers, layers.map((l) => l.descriptor.digest));
    assert.equal(info.Architecture, written.config.architecture);
    assert.equal(info.Os, "linux");

    const copy = join(dir, "copy");
    await run("skopeo", ["copy", "--quiet", `oci:${dir}:latest`, `dir:${copy}`]);
    const manifest = await readFile(join(copy, "manifest.json"));
    assert.equal(digestOf(manifest), written.manifestDescriptor.digest, `${version} copied the manifest unchanged`);
  });
});
