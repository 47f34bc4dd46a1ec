import { test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { FakeClock } from "../../../src/clock/index.js";
import { errorClass, isFailedPrecondition, isInvalidArgument } from "../../../src/errdefs/index.js";
import { digestOf, type Digest } from "../../../src/oci/digest.js";
import { MediaType } from "../../../src/oci/media-types.js";
import { OverlaySnapshotter } from "../../../src/store/snapshots/overlay-snapshotter.js";
import { UNPACK_LABEL, applyInThread, chainID, chainIDs, unpackLayers, type UnpackLayer } from "../../../src/store/diff/unpack.js";
import { chunked, isRoot, listTree, mountAll, removeAll, run, tarOf, tempDir, unmount, type TestEntry } from "../helpers.js";

const D1 = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"; // sha256("a")
const D2 = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"; // sha256("b")
const D3 = "sha256:2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"; // sha256("c")

test("chainID: the first diffID, then sha256 of the previous chainID, a space and the next diffID", () => {
  assert.equal(chainID([D1]), D1);
  // printf '%s %s' "$D1" "$D2" | sha256sum
  assert.equal(chainID([D1, D2]), "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676");
  assert.equal(chainID([D1, D2, D3]), "sha256:2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106");
  assert.deepEqual(chainIDs([D1, D2, D3]), [D1, chainID([D1, D2]), chainID([D1, D2, D3])]);
  assert.deepEqual(chainIDs([]), []);
  assert.equal(chainID([D1, D2, D3]), chainID([chainID([D1, D2]), D3]));
  assert.throws(() => chainID([]), isInvalidArgument);
});

interface TestLayer {
  layer: UnpackLayer;
  diffID: Digest;
  opens: () => number;
}

async function makeLayer(entries: TestEntry[], compression: "gzip" | "zstd" | "none" = "gzip"): Promise<TestLayer> {
  const tar = await tarOf(entries);
  const blob = compression === "gzip" ? gzipSync(tar) : compression === "zstd" ? await run("zstd", ["-q", "-c"], tar) : tar;
  const mediaType = compression === "gzip" ? MediaType.ociLayerGzip : compression === "zstd" ? MediaType.ociLayerZstd : MediaType.ociLayer;
  let opens = 0;
  return {
    layer: {
      descriptor: { mediaType, digest: digestOf(blob), size: blob.length },
      open: () => {
        opens++;
        return Promise.resolve(chunked(blob, 3000));
      },
    },
    diffID: digestOf(tar),
    opens: () => opens,
  };
}

async function withSnapshotter(fn: (s: OverlaySnapshotter, root: string) => Promise<void>): Promise<void> {
  const root = await tempDir();
  try {
    await fn(new OverlaySnapshotter(root, { clock: new FakeClock() }), root);
  } finally {
    await removeAll(root);
  }
}

const image = (...layers: TestLayer[]): { layers: UnpackLayer[]; diffIDs: Digest[] } => ({ layers: layers.map((l) => l.layer), diffIDs: layers.map((l) => l.diffID) });

test("unpackLayers: layers shared by two images are unpacked once, into committed snapshots named by chainID", () => withSnapshotter(async (s) => {
  const base = await makeLayer([{ name: "etc/", type: "directory" }, { name: "etc/os-release", content: "base" }]);
  const app = await makeLayer([{ name: "app", content: "app" }], "zstd");
  const tool = await makeLayer([{ name: "tool", content: "tool" }], "none");

  const a = await unpackLayers({ snapshotter: s, ...image(base, app) });
  assert.deepEqual(a, [base.diffID, chainID([base.diffID, app.diffID])]);
  const b = await unpackLayers({ snapshotter: s, ...image(base, tool) });
  assert.deepEqual(b, [base.diffID, chainID([base.diffID, tool.diffID])]);
  assert.deepEqual([base.opens(), app.opens(), tool.opens()], [1, 1, 1]);

  const again = await unpackLayers({ snapshotter: s, ...image(base, app) });
  assert.deepEqual(again, a);
  assert.deepEqual([base.opens(), app.opens()], [1, 1], "an unpacked image is not opened again");

  const infos = await s.walk();
  assert.deepEqual(infos.map((i) => [i.name, i.kind, i.parent]).sort(), [
    [a[0], "committed", undefined], [a[1], "committed", a[0]], [b[1], "committed", b[0]],
  ].sort());
}));

test("unpackLayers: concurrent unpacks of the same layers wait for each other and reuse the result", () => withSnapshotter(async (s) => {
  const base = await makeLayer([{ name: "f", content: "x".repeat(100_000) }]);
  const top = await makeLayer([{ name: "g", content: "y" }]);
  const results = await Promise.all([1, 2, 3].map(() => unpackLayers({ snapshotter: s, ...image(base, top) })));
  for (const r of results) assert.deepEqual(r, results[0]);
  assert.deepEqual([base.opens(), top.opens()], [1, 1]);
  assert.equal((await s.walk()).length, 2);
}));

test("unpackLayers: a diffID that differs from the config fails the layer and leaves no snapshot of it", () => withSnapshotter(async (s, root) => {
  const base = await makeLayer([{ name: "f", content: "base" }]);
  const top = await makeLayer([{ name: "g", content: "top" }]);
  const wrong = digestOf("not the layer");
  await assert.rejects(
    unpackLayers({ snapshotter: s, layers: [base.layer, top.layer], diffIDs: [base.diffID, wrong] }),
    (err: unknown) => {
      assert.ok(isFailedPrecondition(err));
      assert.equal((err as Error).message, `layer 1 (${top.layer.descriptor.digest}) has diffID ${top.diffID}, image config says ${wrong}`);
      return true;
    },
  );
  assert.deepEqual((await s.walk()).map((i) => [i.name, i.kind]), [[base.diffID, "committed"]]);
  assert.deepEqual(await readdir(join(root, "snapshots")), ["1"]);
  const ok = await unpackLayers({ snapshotter: s, ...image(base, top) });
  assert.equal(ok[1], chainID([base.diffID, top.diffID]));
}));

test("unpackLayers: a hostile layer fails with the extraction error and its snapshot is removed", () => withSnapshotter(async (s) => {
  const evil = await makeLayer([{ name: "x", type: "symlink", linkname: "/etc" }, { name: "x/pwned", content: "x" }]);
  await assert.rejects(unpackLayers({ snapshotter: s, ...image(evil) }), (err: unknown) => isInvalidArgument(err) && /"x\/pwned".*symlink/.test(String(err)));
  assert.deepEqual(await s.walk(), []);
}));

test("unpackLayers: checks its input and removes what an interrupted unpack of the same chainID left", () => withSnapshotter(async (s) => {
  const base = await makeLayer([{ name: "f", content: "base" }]);
  await assert.rejects(unpackLayers({ snapshotter: s, layers: [base.layer], diffIDs: [] }), isInvalidArgument);
  const encrypted = { ...base.layer, descriptor: { ...base.layer.descriptor, mediaType: `${MediaType.ociLayerGzip}+encrypted` } };
  await assert.rejects(unpackLayers({ snapshotter: s, layers: [encrypted], diffIDs: [base.diffID] }), (err: unknown) => errorClass(err) === "NotImplemented");

  await s.prepare(`extract-crashed ${base.diffID}`, undefined, { labels: { [UNPACK_LABEL]: base.diffID } });
  await s.prepare("someone-else", undefined, { labels: { [UNPACK_LABEL]: "sha256:other" } });
  await unpackLayers({ snapshotter: s, ...image(base) });
  assert.deepEqual((await s.walk()).map((i) => i.name).sort(), [base.diffID, "someone-else"].sort());
}));

test("unpackLayers: the snapshots of a two-layer image mount as its merged root filesystem, whiteouts applied", { skip: isRoot ? false : "mounting needs root" }, () => withSnapshotter(async (s) => {
  const lower = await makeLayer([
    { name: "a/", type: "directory" }, { name: "a/b", content: "b" }, { name: "a/c", content: "c" },
    { name: "d/", type: "directory" }, { name: "d/e", content: "e" },
  ]);
  const upper = await makeLayer([
    { name: "a/", type: "directory" }, { name: "a/.wh.b", content: "" },
    { name: "d/", type: "directory" }, { name: "d/.wh..wh..opq", content: "" }, { name: "d/new", content: "new" },
  ]);
  const chains = await unpackLayers({ snapshotter: s, ...image(lower, upper) });
  const top = chains.at(-1) as Digest;
  const mnt = await tempDir("podyard-mnt-");
  try {
    await mountAll(await s.view("rootfs-view", top), join(mnt, "v"));
    assert.deepEqual(await listTree(join(mnt, "v")), ["d a", "f a/c", "d d", "f d/new"]);
    await unmount(join(mnt, "v"));
    await mountAll(await s.prepare("container-rootfs", top), join(mnt, "rw"));
    assert.equal(await readFile(join(mnt, "rw", "a", "c"), "utf8"), "c");
    assert.deepEqual(await readdir(join(mnt, "rw", "d")), ["new"]);
  } finally {
    await removeAll(mnt);
  }
}));

test("unpackLayers: layers are extracted side by side, at most `concurrency` at once, and committed in order, each on the one below", () => withSnapshotter(async (s) => {
  const layers = await Promise.all(["a", "b", "c"].map((n) => makeLayer([{ name: n, content: n }])));
  const started: number[] = [];
  let inFlight = 0;
  let most = 0;
  let releaseFirst = (): void => {};
  const firstGate = new Promise<void>((r) => (releaseFirst = r));
  const chains = await unpackLayers({
    snapshotter: s,
    ...image(...layers),
    concurrency: 2,
    apply: async (dir, layer, o) => {
      const i = layers.findIndex((l) => l.layer === layer);
      started.push(i);
      most = Math.max(most, ++inFlight);
      if (i === 1) releaseFirst(); // layer 0 finishes only after layer 1 has started
      if (i === 0) await firstGate;
      try {
        return await applyInThread(dir, layer, o);
      } finally {
        inFlight--;
      }
    },
  });
  assert.deepEqual(started, [0, 1, 2]);
  assert.equal(most, 2);
  const byName = new Map((await s.walk()).map((i) => [i.name, i]));
  assert.deepEqual(chains.map((c) => byName.get(c)?.kind), ["committed", "committed", "committed"]);
  assert.deepEqual(chains.map((c) => byName.get(c)?.parent), [undefined, chains[0], chains[1]]);
}));

test("unpackLayers: when a lower layer fails, the layers above it extracted meanwhile leave no snapshot", () => withSnapshotter(async (s, root) => {
  const evil = await makeLayer([{ name: "x", type: "symlink", linkname: "/etc" }, { name: "x/pwned", content: "x" }]);
  const fine = await makeLayer([{ name: "f", content: "f" }]);
  let upperDone = false;
  await assert.rejects(
    unpackLayers({
      snapshotter: s,
      ...image(evil, fine),
      apply: async (dir, layer, o) => {
        const applied = await applyInThread(dir, layer, o);
        if (layer === fine.layer) upperDone = true;
        return applied;
      },
    }),
    (err: unknown) => isInvalidArgument(err) && /"x\/pwned"/.test(String(err)),
  );
  assert.ok(upperDone, "the upper layer was extracted beside the failing one");
  assert.deepEqual(await s.walk(), []);
  assert.deepEqual(await readdir(join(root, "snapshots")), []);
}));
