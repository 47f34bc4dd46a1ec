import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FakeClock } from "../../../src/clock/index.js";
import { MemorySnapshotter } from "../../../src/store/index.js";
import { removeAll, tempDir, withRoot } from "../helpers.js";
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
