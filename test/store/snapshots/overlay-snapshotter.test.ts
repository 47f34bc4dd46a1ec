import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeClock } from "../../../src/clock/index.js";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { OverlaySnapshotter } from "../../../src/store/snapshots/overlay-snapshotter.js";
import { removeAll, tempDir, withRoot } from "../helpers.js";
import { snapshotterSuite } from "./snapshotter-suite.js";

snapshotterSuite("OverlaySnapshotter", async ({ clock }) => {
  const root = await tempDir();
  return { snapshotter: new OverlaySnapshotter(root, { clock }), cleanup: () => removeAll(root) };
});

test("OverlaySnapshotter: mounts are binds for bases and single-layer views, overlays otherwise (leftmost lowerdir topmost)", () => withRoot(async (root) => {
  const s = new OverlaySnapshotter(root, { clock: new FakeClock() });
  const fs = (id: number): string => join(root, "snapshots", String(id), "fs");
  const work = (id: number): string => join(root, "snapshots", String(id), "work");

  assert.deepEqual(await s.prepare("k1"), [{ type: "bind", source: fs(1), options: ["rw", "rbind"] }]);
  await s.commit("l1", "k1");
  assert.deepEqual(await s.view("empty"), [{ type: "bind", source: fs(2), options: ["ro", "rbind"] }]);
  assert.deepEqual(await s.prepare("k3", "l1"), [
    { type: "overlay", source: "overlay", options: [`workdir=${work(3)}`, `upperdir=${fs(3)}`, `lowerdir=${fs(1)}`] },
  ]);
  await s.commit("l2", "k3");
  assert.deepEqual(await s.prepare("k4", "l2"), [
    { type: "overlay", source: "overlay", options: [`workdir=${work(4)}`, `upperdir=${fs(4)}`, `lowerdir=${fs(3)}:${fs(1)}`] },
  ]);
  assert.deepEqual(await s.view("v1", "l1"), [{ type: "bind", source: fs(1), options: ["ro", "rbind"] }]);
  assert.deepEqual(await s.view("v2", "l2"), [{ type: "overlay", source: "overlay", options: [`lowerdir=${fs(3)}:${fs(1)}`] }]);
  assert.deepEqual(await s.mounts("k4"), await s.mounts("k4"));

  // committing drops the work directory: committed snapshots are never mounted writable again
  await assert.rejects(stat(work(1)), /ENOENT/);
  assert.deepEqual((await readdir(join(root, "snapshots", "1"))).sort(), ["fs", "snapshot.json"]);
}));

test("OverlaySnapshotter: commit with a parent rebases a snapshot prepared on none, and survives a new instance", () => withRoot(async (root) => {
  const s = new OverlaySnapshotter(root, { clock: new FakeClock() });
  const fs = (id: number): string => join(root, "snapshots", String(id), "fs");
  await s.prepare("k1");
  await s.prepare("k2"); // unpacked beside k1, before k1 is committed
  await writeFile(join(fs(2), "upper"), "2");
  await assert.rejects(s.commit("l2", "k2", { parent: "l1" }), /parent not found/);
  await s.commit("l1", "k1");
  await s.prepare("k3", "l1");
  await assert.rejects(s.commit("x", "k2", { parent: "k3" }), /the parent is active/);
  await assert.rejects(s.commit("x", "k3", { parent: "l1" }), /prepared on "l1"; only a snapshot prepared without a parent can be rebased/);
  await s.commit("l2", "k2", { parent: "l1" });
  assert.equal((await s.stat("l2")).parent, "l1");
  assert.deepEqual(await s.view("v", "l2"), [{ type: "overlay", source: "overlay", options: [`lowerdir=${fs(2)}:${fs(1)}`] }]);
  await assert.rejects(s.remove("l1"), /it is the parent of "k3", "l2"|it is the parent of "l2", "k3"/);
  const again = new OverlaySnapshotter(root, { clock: new FakeClock() });
  assert.equal((await again.stat("l2")).parent, "l1");
}));

test("OverlaySnapshotter: createdAt comes from the clock; state survives a new instance", () => withRoot(async (root) => {
  const clock = new FakeClock(5_000);
  const s = new OverlaySnapshotter(root, { clock });
  await s.prepare("k1", undefined, { labels: { "x.io/y": "z" } });
  clock.step(1_000);
  await s.commit("l1", "k1");
  clock.step(1_000);
  await s.view("v", "l1");
  const before = await s.walk();
  assert.deepEqual(before.map((i) => [i.name, i.createdAt]), [["l1", 6_000], ["v", 7_000]]);

  const again = new OverlaySnapshotter(root, { clock });
  assert.deepEqual(await again.walk(), before);
  assert.deepEqual(await again.mounts("v"), await s.mounts("v"));
  assert.deepEqual((await again.prepare("k2", "l1"))[0]?.options[1], `upperdir=${join(root, "snapshots", "3", "fs")}`);
}));

test("OverlaySnapshotter: a root whose path would break overlay options is refused", () => {
  assert.throws(() => new OverlaySnapshotter("/tmp/a:b", { clock: new FakeClock() }), isInvalidArgument);
  assert.throws(() => new OverlaySnapshotter("/tmp/a,b", { clock: new FakeClock() }), isInvalidArgument);
});

test("OverlaySnapshotter: crash leftovers are invisible and cleanup() removes them", () => withRoot(async (root) => {
  const s = new OverlaySnapshotter(root, { clock: new FakeClock() });
  await s.prepare("k1");
  await s.commit("l1", "k1");
  await s.prepare("k2", "l1");
  const dir = join(root, "snapshots");
  // a prepare cut short before its metadata, a half-written metadata file, a remove cut short
  await mkdir(join(dir, "7", "fs"), { recursive: true });
  await writeFile(join(dir, "7", "fs", "file"), "half unpacked");
  await mkdir(join(dir, "8", "fs"), { recursive: true });
  await writeFile(join(dir, "8", "snapshot.json.tmp"), '{"version":1,"na');
  await mkdir(join(dir, "9"), { recursive: true });
  await writeFile(join(dir, "9", "snapshot.json"), "{not json");
  await mkdir(join(dir, "1", "work"));
  await writeFile(join(dir, "1", "snapshot.json.tmp"), "x");
  await writeFile(join(dir, "stray.tmp"), "x");

  // the running instance sees none of it; cleanup() removes it
  assert.deepEqual((await s.walk()).map((i) => i.name), ["l1", "k2"]);
  const removed = await s.cleanup();
  assert.deepEqual(removed.map((p) => p.slice(dir.length + 1)).sort(), ["1/snapshot.json.tmp", "1/work", "7", "8", "9", "stray.tmp"]);
  assert.deepEqual((await readdir(dir)).sort(), ["1", "2"]);

  // a new instance (the next start) removes such leftovers on first use
  await mkdir(join(dir, "11", "fs"), { recursive: true });
  await writeFile(join(dir, "11", "fs", "file"), "half unpacked");
  const fresh = new OverlaySnapshotter(root, { clock: new FakeClock() });
  assert.deepEqual((await fresh.walk()).map((i) => i.name), ["l1", "k2"]);
  assert.deepEqual((await readdir(dir)).sort(), ["1", "2"]);
  assert.deepEqual((await readdir(join(dir, "2"))).sort(), ["fs", "snapshot.json", "work"], "the active snapshot keeps its work dir");
  // ids never collide with what a crash left: the next id is past the highest seen
  const mounts = await fresh.prepare("k3", "l1");
  assert.equal(mounts[0]?.options[1], `upperdir=${join(dir, "12", "fs")}`);
  assert.deepEqual(await fresh.cleanup(), []);
}));

const CHURN = `
import { OverlaySnapshotter } from ${JSON.stringify(fileURLToPath(new URL("../../../src/store/snapshots/overlay-snapshotter.ts", import.meta.url)))};
import { realClock } from ${JSON.stringify(fileURLToPath(new URL("../../../src/clock/index.ts", import.meta.url)))};
const s = new OverlaySnapshotter(process.argv[2], { clock: realClock });
await s.prepare("base-key");
await s.commit("base", "base-key");
for (let i = 0; ; i++) {
  await s.prepare("a" + i, "base");
  if (i % 3 === 0) await s.commit("c" + i, "a" + i);
  if (i % 3 === 1) await s.remove("a" + i);
  process.stdout.write(i + "\\n");
}
`;

test("OverlaySnapshotter: kill -9 in the middle of prepare/commit/remove leaves a consistent store", () => withRoot(async (root) => {
  const script = join(root, "churn.mts");
  await writeFile(script, CHURN);
  const store = join(root, "store");
  const child = spawn(process.execPath, ["--import", "tsx", script, store], { stdio: ["ignore", "pipe", "inherit"] });
  let lines = 0;
  child.stdout.on("data", (d: Buffer) => {
    lines += d.toString().split("\n").length - 1;
    if (lines >= 40) child.kill("SIGKILL");
  });
  const [code, signal] = await once(child, "exit") as [number | null, string | null];
  assert.equal(signal, "SIGKILL", `the churn process exited early with code ${code}`);

  const s = new OverlaySnapshotter(store, { clock: new FakeClock() });
  const infos = await s.walk(); // the first use removes what the kill left
  assert.ok(infos.length >= 10, `${infos.length} snapshots`);
  const ids = (await readdir(join(store, "snapshots"))).sort();
  assert.equal(ids.length, infos.length, "after cleanup, every directory is a snapshot");
  for (const id of ids) {
    const meta = JSON.parse(await readFile(join(store, "snapshots", id, "snapshot.json"), "utf8")) as { kind: string };
    assert.ok((await stat(join(store, "snapshots", id, "fs"))).isDirectory());
    if (meta.kind === "active") assert.ok((await stat(join(store, "snapshots", id, "work"))).isDirectory());
  }
  for (const info of infos) if (info.kind === "active") await s.mounts(info.name);
  // the store is usable: every snapshot can be removed, children first
  for (const info of infos.reverse()) await s.remove(info.name);
  assert.deepEqual(await readdir(join(store, "snapshots")), []);
}));
