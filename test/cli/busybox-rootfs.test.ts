import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { buildBusyboxImage, randomDataEntries } from "../../src/cli/tutorial/busybox-rootfs.js";
import { readImageLayout } from "../../src/oci/image-layout.js";
import { layerPath } from "../../src/oci/layer-tar.js";

interface Extracted {
  header: Header;
  body: Buffer;
}

/** The entries of a gzipped layer by name (directories without their trailing slash). */
async function readLayer(path: string): Promise<Map<string, Extracted>> {
  const out = new Map<string, Extracted>();
  const ex = extract();
  const reading = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.set(entry.header.name.replace(/\/$/, ""), { header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  await pipeline(createReadStream(path), createGunzip(), ex);
  await reading;
  return out;
}

const tempDirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-busybox-"));
  tempDirs.push(dir);
  return dir;
}

test.after(async () => {
  await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
});

void test("the tutorial image has busybox, its applets, the nc shim, apk, libraries and /etc", async (t) => {
  const dir = await tempDir();
  let built: Awaited<ReturnType<typeof buildBusyboxImage>>;
  try {
    built = await buildBusyboxImage({ dir });
  } catch (err) {
    if ((err as { code?: unknown }).code === "FailedPrecondition") {
      console.log(`cannot build the busybox image here: ${(err as Error).message}`);
      t.skip("dynamic busybox not installed (apt-get install busybox)");
      return;
    }
    throw err;
  }
  assert.equal(built.tag, "latest");
  assert.equal(built.manifest.layers.length, 1);
  const read = await readImageLayout(dir, "latest");
  assert.equal(read.manifestDescriptor.digest, built.manifestDescriptor.digest);
  const [layer] = read.manifest.layers;
  assert.ok(layer);
  const files = await readLayer(read.blobPath(layer.digest));

  const busybox = files.get("bin/busybox");
  assert.equal(busybox?.header.type, "file");
  assert.equal(busybox?.header.mode, 0o755);
  assert.deepEqual(busybox?.body, await readFile("/bin/busybox"));
  assert.equal(files.get("bin/sh")?.header.type, "symlink");
  assert.equal(files.get("bin/sh")?.header.linkname, "/bin/busybox");
  assert.equal(files.get("bin/ls")?.header.linkname, "/bin/busybox");

  const nc = files.get("bin/nc");
  assert.equal(nc?.header.type, "file");
  assert.equal(nc?.header.mode, 0o755);
  assert.match(nc?.body.toString() ?? "", /^#!\/bin\/busybox sh\n[\s\S]*-lk\|-kl\) a=-ll;;[\s\S]*exec \/bin\/busybox nc "\$@"\n$/);
  for (const [name, e] of files) {
    if (name.endsWith("/nc") && name !== "bin/nc") assert.equal(e.header.linkname, "/bin/nc", `${name} must reach the shim`);
  }
  assert.match(files.get("sbin/apk")?.body.toString() ?? "", /^#!\/bin\/sh\n[\s\S]*exit 0\n$/);

  const loader = [...files.keys()].find((n) => /^lib(64)?\/(.*\/)?ld-linux[^/]*$/.test(n));
  assert.ok(loader, `a dynamic loader under lib: ${[...files.keys()].filter((n) => n.startsWith("lib")).join(", ")}`);
  assert.equal(files.get(loader)?.header.type, "file", "the loader is copied, not a symlink");
  assert.ok([...files.keys()].some((n) => /^lib(64)?\/(.*\/)?libc\.so\.6$/.test(n)), "libc.so.6");

  assert.match(files.get("etc/passwd")?.body.toString() ?? "", /^root:x:0:0:.*\nnobody:x:65534:65534:/);
  assert.match(files.get("etc/group")?.body.toString() ?? "", /^root:x:0:/);
  assert.match(files.get("etc/hosts")?.body.toString() ?? "", /^127\.0\.0\.1\s+localhost\n::1\s+localhost/);
  assert.equal(files.get("etc/nsswitch.conf")?.body.toString(), "hosts: files dns\n");
  assert.equal(files.get("tmp")?.header.mode, 0o1777);
  for (const d of ["proc", "sys", "dev", "mnt", "run", "var", "var/www", "root", "usr/bin", "etc"]) {
    assert.equal(files.get(d)?.header.type, "directory", `${d} is a directory`);
  }
  for (const [name, e] of files) {
    assert.equal(e.header.uid, 0, `${name} uid`);
    assert.equal(e.header.mtime.getTime(), 0, `${name} mtime`);
  }
  assert.deepEqual(read.config.config?.Cmd, ["/bin/sh"]);
});

void test("extra random-data layers are streamed, seeded and reproducible", async (t) => {
  const [a, b] = [await tempDir(), await tempDir()];
  const extraLayers = [{ name: "data/blob", sizeBytes: 3 * 1024 * 1024 + 7, seed: 42 }, { name: "/more/x.bin", sizeBytes: 0 }];
  let first: Awaited<ReturnType<typeof buildBusyboxImage>>;
  try {
    first = await buildBusyboxImage({ dir: a, tag: "v1", extraLayers, gzipLevel: 1 });
  } catch (err) {
    if ((err as { code?: unknown }).code === "FailedPrecondition") {
      t.skip("dynamic busybox not installed (apt-get install busybox)");
      return;
    }
    throw err;
  }
  const second = await buildBusyboxImage({ dir: b, tag: "v1", extraLayers, gzipLevel: 1 });
  assert.equal(first.manifest.layers.length, 3);
  assert.equal(second.manifestDescriptor.digest, first.manifestDescriptor.digest, "same seed, same image");
  assert.equal(first.manifestDescriptor.annotations?.["org.opencontainers.image.ref.name"], "v1");
  const data = first.manifest.layers[1];
  assert.ok(data);
  assert.ok(data.size > 3 * 1024 * 1024, `random data does not compress (${data.size} bytes)`);
  const files = await readLayer(join(a, "blobs", "sha256", data.digest.slice("sha256:".length)));
  assert.deepEqual([...files.keys()], ["data", "data/blob"]);
  assert.equal(files.get("data/blob")?.body.byteLength, 3 * 1024 * 1024 + 7);
  assert.deepEqual(first.config.history?.map((h) => h.created_by?.includes("random") ?? false), [false, true, true]);

  const unseeded = randomDataEntries({ name: "r", sizeBytes: 10 });
  const again = randomDataEntries({ name: "r", sizeBytes: 10 });
  const bytes = async (e: (typeof unseeded)[number]): Promise<Buffer> => {
    assert.ok(e.type === "file" && "source" in e);
    const chunks: Buffer[] = [];
    for await (const c of e.source.open() as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  };
  const [u0, a0] = [unseeded[0], again[0]];
  assert.ok(u0 && a0);
  assert.notDeepEqual(await bytes(u0), await bytes(a0), "without a seed each build differs");
  assert.equal(layerPath("/more/x.bin"), "more/x.bin");
});
