/** Image garbage collection: thresholds, least recently used first, in-use/pinned/young images kept, the kubelet's events. */
import { test } from "node:test";
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import assert from "node:assert/strict";
import { FakeClock } from "../../../src/clock/index.js";
import { CriImageService, ImageGCManager, KubeletImageManager, type Image, type ImageFsStats, type ImageService } from "../../../src/images/index.js";
import { buildTestImage, openTestNode, pushLayout } from "../../helpers/images.js";
import { startRegistry } from "../../helpers/registry.js";
import { makePod } from "./fixtures.js";

const MIN = 60_000;

function fakeImages(images: Partial<Image>[]): { service: ImageService; removed: string[]; list: Image[] } {
  const list: Image[] = images.map((i) => ({ id: "", repoTags: [], repoDigests: [], size: 0, username: "", pinned: false, ...i }));
  const removed: string[] = [];
  const service: ImageService = {
    listImages: () => Promise.resolve(list.map((i) => ({ ...i }))),
    imageStatus: () => Promise.resolve({ info: {} }),
    pullImage: () => Promise.reject(new Error("no pulls here")),
    removeImage: (spec) => {
      removed.push(spec.image);
      const at = list.findIndex((i) => i.id === spec.image);
      if (at >= 0) list.splice(at, 1);
      return Promise.resolve();
    },
    imageFsInfo: () => Promise.resolve({ imageFilesystems: [], containerFilesystems: [] }),
  };
  return { service, removed, list };
}

function setUp(images: Partial<Image>[], opts: { capacity?: number; available?: number; maxAge?: number } = {}) {
  const clock = new FakeClock(Date.UTC(2026, 11, 3));
  const fake = fakeImages(images);
  const inUse = new Set<string>();
  const stats: ImageFsStats = { capacityBytes: opts.capacity ?? 1000, availableBytes: opts.available ?? 1000 };
  const events: string[] = [];
  const gc = new ImageGCManager({
    imageService: fake.service, clock, imagesInUse: () => Promise.resolve(new Set(inUse)), fsStats: () => Promise.resolve({ ...stats }),
    recordNodeEvent: (type, reason, message) => events.push(`${type} ${reason} ${message}`),
    ...(opts.maxAge !== undefined ? { config: { imageMaximumGCAge: opts.maxAge } } : {}),
  });
  return { clock, fake, inUse, stats, events, gc };
}

test("below the high threshold nothing is removed; at it, least recently used images go until usage is down to the low threshold", async () => {
  const s = setUp([
    { id: "old-used", size: 40 }, { id: "never-used", size: 30 }, { id: "in-use", size: 500 }, { id: "pause", size: 100, pinned: true },
    { id: "recent-used", size: 40 },
  ]);
  s.inUse.add("old-used");
  await s.gc.detectImages();
  s.clock.step(MIN);
  s.inUse.clear();
  s.inUse.add("recent-used");
  await s.gc.detectImages();
  s.inUse.clear();
  s.inUse.add("in-use");
  s.clock.step(5 * MIN);

  s.stats.availableBytes = 160; // 84 % used: under 85 %
  await s.gc.garbageCollect();
  assert.deepEqual(s.fake.removed, []);

  s.stats.availableBytes = 150; // 85 %: free 1000*20/100 - 150 = 50 bytes
  await s.gc.garbageCollect();
  assert.deepEqual(s.fake.removed, ["never-used", "old-used"], "never used first, then the oldest use; 70 bytes ≥ 50");
  assert.deepEqual(s.events, []);
  assert.deepEqual([...s.gc.records.keys()].sort(), ["in-use", "pause", "recent-used"]);
});

test("images first seen less than 2 minutes ago are kept; when too little can go, FreeDiskSpaceFailed says how much", async () => {
  const s = setUp([{ id: "a", size: 10 }, { id: "b", size: 20 }], { available: 100 });
  await s.gc.detectImages();
  s.clock.step(2 * MIN - 1);
  await assert.rejects(s.gc.garbageCollect(), /Attempted to free 100 bytes, but only found 0 bytes eligible/);
  assert.deepEqual(s.fake.removed, []);
  s.clock.step(1);
  await assert.rejects(s.gc.garbageCollect(), /^FailedPreconditionError: Failed to garbage collect required amount of images\. Attempted to free 100 bytes, but only found 30 bytes eligible to free\.$/);
  assert.deepEqual(s.fake.removed, ["a", "b"]);
  assert.deepEqual(s.events, [
    "Warning FreeDiskSpaceFailed Failed to garbage collect required amount of images. Attempted to free 100 bytes, but only found 0 bytes eligible to free.",
    "Warning FreeDiskSpaceFailed Failed to garbage collect required amount of images. Attempted to free 100 bytes, but only found 30 bytes eligible to free.",
  ]);
});

test("an image in use by a container (running or exited, by ID or repo digest) is never removed; ties go by first detection", async () => {
  const s = setUp([{ id: "sha256:1", size: 10, repoDigests: ["reg/app@sha256:m1"] }, { id: "sha256:2", size: 10 }], { available: 0 });
  await s.gc.detectImages();
  s.clock.step(MIN);
  s.fake.list.push({ id: "sha256:3", repoTags: [], repoDigests: [], size: 10, username: "", pinned: false });
  await s.gc.detectImages();
  s.clock.step(10 * MIN);
  s.inUse.add("reg/app@sha256:m1");
  assert.deepEqual((await s.gc.imagesInEvictionOrder(s.clock.now())).map((i) => i.id), ["sha256:2", "sha256:3"]);
  await assert.rejects(s.gc.garbageCollect(), /FreeDiskSpaceFailed|Failed to garbage collect/);
  assert.deepEqual(s.fake.removed, ["sha256:2", "sha256:3"]);
});

test("capacity 0 is InvalidDiskCapacity; thresholds are checked; 100 % disables GC", async () => {
  const s = setUp([], { capacity: 0, available: 0 });
  await assert.rejects(s.gc.garbageCollect(), /invalid capacity 0 on image filesystem/);
  assert.deepEqual(s.events, ["Warning InvalidDiskCapacity invalid capacity 0 on image filesystem"]);
  const base = { imageService: s.fake.service, imagesInUse: () => Promise.resolve(new Set<string>()) };
  assert.throws(() => new ImageGCManager({ ...base, config: { imageGCHighThresholdPercent: 101 } }), /invalid HighThresholdPercent 101, must be in range \[0-100\]/);
  assert.throws(() => new ImageGCManager({ ...base, config: { imageGCHighThresholdPercent: 50, imageGCLowThresholdPercent: 60 } }), /LowThresholdPercent 60 can not be higher than HighThresholdPercent 50/);
  assert.equal(new ImageGCManager({ ...base, config: { imageGCHighThresholdPercent: 100 } }).enabled, false);
});

test("with a maximum age, images unused for longer go whatever the disk usage, once that age has passed since GC began", async () => {
  const s = setUp([{ id: "stale", size: 10 }, { id: "fresh", size: 10 }], { maxAge: 10 * MIN });
  s.inUse.add("stale");
  await s.gc.detectImages();
  s.inUse.clear();
  s.clock.step(5 * MIN);
  s.inUse.add("fresh");
  await s.gc.detectImages();
  s.inUse.clear();
  s.clock.step(5 * MIN);
  await s.gc.garbageCollect();
  assert.deepEqual(s.fake.removed, [], "10 min since GC began (the manager was made) is not more than the maximum age");
  s.clock.step(1);
  await s.gc.garbageCollect();
  assert.deepEqual(s.fake.removed, ["stale"]);
});

test("on a real node: GC removes the unused image from the node and keeps the one a container uses", async (t) => {
  const node = await openTestNode();
  t.after(() => node.close());
  const reg = await startRegistry();
  t.after(() => reg.close());
  const one = await buildTestImage();
  t.after(() => one.cleanup());
  const two = await buildTestImage({ extraLayers: [{ entries: [{ type: "file", path: "etc/motd", content: Buffer.from("two\n"), mode: 0o644 }] }] });
  t.after(() => two.cleanup());
  const host = new URL(reg.url).host;
  await pushLayout(reg.url, "gc/one", "v1", one);
  await pushLayout(reg.url, "gc/two", "v1", two);
  const clock = new FakeClock(Date.UTC(2026, 11, 3));
  const cri = new CriImageService({ images: node.env.imageService, contentDir: node.env.content.root, snapshotsDir: node.env.snapshotter.root, clock });
  const manager = new KubeletImageManager({ imageService: cri, clock, stateDir: join(node.home, "kubelet") });
  const pulled = async (name: string): Promise<string> => {
    const r = await manager.ensureImageExists({ pod: makePod(name), container: { name: "c", image: `${host}/gc/${name}:v1` }, pullSecrets: [], record: () => {} });
    assert.ok(r.ok);
    return r.imageRef;
  };
  const idOne = await pulled("one");
  const idTwo = await pulled("two");
  const recordsDir = join(node.home, "kubelet", "image_manager", "pulled");
  assert.equal((await readdir(recordsDir)).length, 2);
  const gc = new ImageGCManager({
    imageService: cri, clock, imagesInUse: () => Promise.resolve(new Set([idTwo])),
    fsStats: () => Promise.resolve({ capacityBytes: 100, availableBytes: 10 }),
    pruneRecords: (ids, until) => manager.pruneUnknownRecords(ids, until),
  });
  await gc.detectImages();
  clock.step(3 * MIN);
  await gc.garbageCollect(); // 90 % used: 10 bytes to free, and image one is larger
  assert.deepEqual((await cri.listImages()).map((i) => i.id), [idTwo]);
  assert.equal((await cri.imageStatus({ image: `${host}/gc/one:v1` })).image, undefined, `${idOne} is gone`);
  const record = `sha256-${createHash("sha256").update(idTwo).digest("hex")}`;
  assert.deepEqual(await readdir(recordsDir), [record], "the removed image's pull record went too");
  const info = await cri.imageFsInfo();
  assert.ok((info.imageFilesystems[0]?.usedBytes.value ?? 0) > 0);
});

test("run: images found at start need not wait out the minimum age; GC runs every 5 minutes; repeated failures raise ImageGCFailed", async () => {
  const s = setUp([{ id: "old", size: 10 }], { available: 0 });
  const stop = new AbortController();
  const errors: unknown[] = [];
  const running = s.gc.run(stop.signal, (e) => errors.push(e));
  const settled = async (): Promise<void> => {
    while (s.clock.sleepers < 2) await new Promise((resolve) => setImmediate(resolve));
  };
  await settled();
  assert.equal(s.gc.records.get("old")?.firstDetected, 0, "dated long ago");
  const other = setUp([{ id: "x", size: 1 }]);
  await other.gc.start();
  assert.equal(other.gc.records.get("x")?.firstDetected, 0, "start() alone does the same");
  s.fake.list.push({ id: "new", repoTags: [], repoDigests: [], size: 10, username: "", pinned: false });
  s.clock.step(5 * MIN);
  await settled();
  assert.deepEqual(s.fake.removed, ["old"], "the image here at start went at the first pass; the new one is too young");
  assert.equal(errors.length, 1, "not enough freed: reported");
  assert.deepEqual(s.events.filter((e) => e.includes("ImageGCFailed")), []);
  s.clock.step(5 * MIN);
  await settled();
  assert.deepEqual(s.fake.removed, ["old", "new"]);
  assert.equal(s.events.filter((e) => e.includes("ImageGCFailed")).length, 1, "the second failure in a row is a node event");
  stop.abort();
  await running;
});
