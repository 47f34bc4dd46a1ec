import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FakeClock } from "../../../src/clock/index.js";
import { digestOf, MediaType, type Digest } from "../../../src/oci/index.js";
import { MemorySnapshotter, unpackLayers, type UnpackLayer } from "../../../src/store/index.js";
import { chunked, getXattr, isRoot, listTree, mountAll, removeAll, tarOf, tempDir, unmount, withRoot, type TestEntry } from "../helpers.js";
import { snapshotterSuite } from "./snapshotter-suite.js";

snapshotterSuite("MemorySnapshotter", async ({ clock }) => {
  const root = await tempDir();
  return { snapshotter: new MemorySnapshotter(join(root, "snapshots"), { clock }), cleanup: () => removeAll(root) };
});

test("MemorySnapshotter: every mount is a bind of the snapshot's own directory; stacking copies the parent", () => withRoot(async (root) => {
  const s = new MemorySnapshotter(root, { clock: new FakeClock() });
  assert.deepEqual(await s.prepare("k1"), [{ type: "bind", source: join(root, "1"), options: ["rw", "rbind"] }]);
  await writeFile(join(root, "1", "a"), "layer 1");
  await s.commit("l1", "k1");
  assert.deepEqual(await s.prepare("k2", "l1"), [{ type: "bind", source: join(root, "2"), options: ["rw", "rbind"] }]);
  assert.deepEqual(await readdir(join(root, "2")), ["a"], "a copy of the parent's tree");
  await writeFile(join(root, "2", "b"), "layer 2");
  await s.commit("l2", "k2");
  assert.deepEqual(await s.view("v", "l2"), [{ type: "bind", source: join(root, "3"), options: ["ro", "rbind"] }]);
  assert.deepEqual((await readdir(join(root, "3"))).sort(), ["a", "b"]);
  assert.deepEqual(await readdir(join(root, "1")), ["a"], "the parent is untouched");
  await s.remove("v");
  assert.deepEqual((await readdir(root)).sort(), ["1", "2"]);
}));

test("MemorySnapshotter: metadata lives in the instance; cleanup() removes directories no snapshot owns", () => withRoot(async (root) => {
  const s = new MemorySnapshotter(root, { clock: new FakeClock() });
  await s.prepare("k1");
  await mkdir(join(root, "stray"));
  await mkdir(join(root, "2"));
  assert.deepEqual(await s.prepare("k2"), [{ type: "bind", source: join(root, "3"), options: ["rw", "rbind"] }], "ids already on disk are skipped");
  assert.deepEqual((await s.cleanup()).sort(), [join(root, "2"), join(root, "stray")]);
  assert.deepEqual((await readdir(root)).sort(), ["1", "3"]);

  const fresh = new MemorySnapshotter(root, { clock: new FakeClock() });
  assert.deepEqual(await fresh.walk(), [], "a new instance knows no snapshots");
}));

async function layerOf(entries: TestEntry[]): Promise<{ layer: UnpackLayer; diffID: Digest }> {
  const tar = await tarOf(entries);
  const layer: UnpackLayer = { descriptor: { mediaType: MediaType.ociLayer, digest: digestOf(tar), size: tar.length }, open: () => Promise.resolve(chunked(tar, 3000)) };
  return { layer, diffID: digestOf(tar) };
}

test("MemorySnapshotter: unpackLayers' layers stack into whole trees, whiteouts and opaque directories applied", { skip: isRoot ? false : "whiteouts are devices: making them needs root" }, () => withRoot(async (root) => {
  const s = new MemorySnapshotter(join(root, "snapshots"), { clock: new FakeClock() });
  const layers = await Promise.all([
    layerOf([
      { name: "a/", type: "directory" }, { name: "a/b", content: "b" }, { name: "a/c", content: "c" },
      { name: "d/", type: "directory" }, { name: "d/e", content: "e" }, { name: "x/", type: "directory" }, { name: "x/y", content: "y" },
    ]),
    layerOf([
      { name: "a/", type: "directory" }, { name: "a/.wh.b", content: "" },
      { name: "d/", type: "directory" }, { name: "d/.wh..wh..opq", content: "" }, { name: "d/new", content: "new" },
      { name: ".wh.x", content: "" },
    ]),
    layerOf([{ name: "x", content: "a file now" }, { name: "a/b/", type: "directory", mode: 0o700 }]),
  ]);
  const chains = await unpackLayers({ snapshotter: s, layers: layers.map((l) => l.layer), diffIDs: layers.map((l) => l.diffID), concurrency: 3 });
  assert.deepEqual((await s.walk()).map((i) => [i.name, i.parent]), [[chains[0], undefined], [chains[1], chains[0]], [chains[2], chains[1]]]);

  const mnt = join(root, "mnt");
  try {
    await mountAll(await s.view("middle", chains[1]), mnt);
    assert.deepEqual(await listTree(mnt), ["d a", "f a/c", "d d", "f d/new"]);
    assert.equal(await getXattr(join(mnt, "d"), "trusted.overlay.opaque"), undefined, "no opaque marker is left in a whole tree");
    await unmount(mnt);
    await mountAll(await s.view("top", chains[2]), mnt);
    assert.deepEqual(await listTree(mnt), ["d a", "d a/b", "f a/c", "d d", "f d/new", "f x"]);
  } finally {
    await unmount(mnt);
  }
}));
