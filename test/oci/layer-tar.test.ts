import { test } from "node:test";
import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip, gunzipSync } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { digestOf } from "../../src/oci/digest.js";
import { packLayer, sortLayerEntries, writeLayer, type LayerEntry } from "../../src/oci/layer-tar.js";

interface Extracted {
  header: Header;
  body: Buffer;
}

async function readLayer(path: string): Promise<Extracted[]> {
  const out: Extracted[] = [];
  const ex = extract();
  const reading = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.push({ header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  await pipeline(createReadStream(path), createGunzip(), ex);
  await reading;
  return out;
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-layer-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function sampleEntries(sourcePath: string): LayerEntry[] {
  return [
    { type: "file", path: "/etc/hosts", content: Buffer.from("127.0.0.1 localhost\n"), uid: 0, gid: 0 },
    { type: "dir", path: "tmp", mode: 0o1777 },
    { type: "symlink", path: "bin/sh", linkname: "/bin/busybox" },
    { type: "file", path: "bin/busybox", sourcePath, mode: 0o755 },
    { type: "dir", path: "home/user", mode: 0o700, uid: 1000, gid: 1001 },
    { type: "hardlink", path: "bin/ash", linkname: "bin/busybox" },
    { type: "dir", path: "bin" },
    { type: "file", path: "data/stream", source: { size: 100_000, open: () => Readable.from([Buffer.alloc(60_000, 1), Buffer.alloc(40_000, 2)]) } },
  ];
}

void test("building the same entries twice gives identical digests and bytes", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "src-bin");
    await writeFile(src, Buffer.alloc(5000, 7));
    const a = await writeLayer(sampleEntries(src), join(dir, "a.tar.gz"));
    const b = await writeLayer([...sampleEntries(src)].reverse(), join(dir, "b.tar.gz"));
    assert.equal(a.digest, b.digest);
    assert.equal(a.diffID, b.diffID);
    assert.equal(a.mediaType, "application/vnd.oci.image.layer.v1.tar+gzip");
    assert.deepEqual(await readFile(join(dir, "a.tar.gz")), await readFile(join(dir, "b.tar.gz")));
    const c = await writeLayer(sampleEntries(src), join(dir, "c.tar.gz"), { gzipLevel: 1 });
    assert.equal(c.diffID, a.diffID, "the diffID does not depend on the compression level");
  });
});

void test("digest and size describe the gzip blob; diffID is the sha256 of the gunzipped tar", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "src-bin");
    await writeFile(src, "hello");
    const path = join(dir, "layer.tar.gz");
    const layer = await writeLayer(sampleEntries(src), path);
    const blob = await readFile(path);
    assert.equal(layer.size, blob.byteLength);
    assert.equal(layer.digest, digestOf(blob));
    const tar = gunzipSync(blob);
    assert.equal(layer.diffID, digestOf(tar));
    assert.equal(layer.uncompressedSize, tar.byteLength);
    assert.equal(blob[3]! & 0x08, 0, "gzip header carries no file name");
    assert.equal(blob.readUInt32LE(4), 0, "gzip header mtime is 0");
    const chunks: Buffer[] = [];
    for await (const c of packLayer(sampleEntries(src))) chunks.push(c);
    assert.equal(digestOf(Buffer.concat(chunks)), layer.diffID, "packLayer streams the same tar");
  });
});

void test("entries round-trip with sorted names, modes, owners, links and mtime 0", async () => {
  await withTempDir(async (dir) => {
    const src = join(dir, "src-bin");
    await writeFile(src, "busybox bytes");
    const path = join(dir, "layer.tar.gz");
    await writeLayer(sampleEntries(src), path);
    const got = await readLayer(path);
    const names = got.map((e) => e.header.name);
    assert.deepEqual(names, ["bin/", "bin/ash", "bin/busybox", "bin/sh", "data/stream", "etc/hosts", "home/user/", "tmp/"]);
    const by = new Map(got.map((e) => [e.header.name, e]));
    for (const e of got) assert.equal(e.header.mtime.getTime(), 0, `${e.header.name} mtime`);
    // bin/ash sorts before bin/busybox, so the content moves to bin/ash and bin/busybox links to it
    assert.equal(by.get("bin/ash")?.header.type, "file");
    assert.equal(by.get("bin/ash")?.body.toString(), "busybox bytes");
    assert.equal(by.get("bin/ash")?.header.mode, 0o755);
    assert.equal(by.get("bin/busybox")?.header.type, "link");
    assert.equal(by.get("bin/busybox")?.header.linkname, "bin/ash");
    assert.equal(by.get("bin/sh")?.header.type, "symlink");
    assert.equal(by.get("bin/sh")?.header.linkname, "/bin/busybox");
    assert.equal(by.get("tmp/")?.header.type, "directory");
    assert.equal(by.get("tmp/")?.header.mode, 0o1777);
    assert.equal(by.get("bin/")?.header.mode, 0o755);
    assert.equal(by.get("home/user/")?.header.uid, 1000);
    assert.equal(by.get("home/user/")?.header.gid, 1001);
    assert.equal(by.get("home/user/")?.header.uname, "");
    assert.equal(by.get("etc/hosts")?.header.mode, 0o644);
    assert.equal(by.get("etc/hosts")?.body.toString(), "127.0.0.1 localhost\n");
    const stream = by.get("data/stream")?.body;
    assert.equal(stream?.byteLength, 100_000);
    assert.equal(stream?.[59_999], 1);
    assert.equal(stream?.[60_000], 2);
  });
});

void test("duplicate paths, '..' and dangling hardlinks are rejected", () => {
  assert.throws(() => sortLayerEntries([{ type: "dir", path: "a" }, { type: "dir", path: "/a/" }]), { code: "InvalidArgument" });
  assert.throws(() => sortLayerEntries([{ type: "dir", path: "a/../../b" }]), { code: "InvalidArgument" });
  assert.throws(() => sortLayerEntries([{ type: "hardlink", path: "a", linkname: "missing" }]), { code: "InvalidArgument" });
});

void test("a failing source leaves no file behind", async () => {
  await withTempDir(async (dir) => {
    const dest = join(dir, "layer.tar.gz");
    const entries: LayerEntry[] = [{ type: "file", path: "x", sourcePath: join(dir, "does-not-exist") }];
    await assert.rejects(writeLayer(entries, dest), { code: "ENOENT" });
    const bad: LayerEntry[] = [{ type: "file", path: "y", source: { size: 10, open: () => Readable.from([Buffer.alloc(3)]) } }];
    await assert.rejects(writeLayer(bad, dest), /source gave 3 bytes, expected 10/);
    assert.deepEqual(await readdir(dir), []);
  });
});
