/**
 * Garbage collection, through `collectGarbage` with a FakeClock and through
 * `podyard registry gc`: what is live survives, what a deleted manifest alone held
 * goes, the grace period and uploads in progress are respected, --dry-run deletes
 * nothing and --delete-untagged keeps what a tagged index lists.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { FakeClock } from "../../../src/clock/index.js";
import { digestOf, MediaType, type Digest } from "../../../src/oci/index.js";
import { collectGarbage } from "../../../src/registry/server/index.js";
import { errorCode, pushBlob, pushImage, startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { runPodyard } from "../../helpers/registry-process.js";

async function withRegistry(fn: (reg: TestRegistry) => Promise<void>): Promise<void> {
  const reg = await startRegistry();
  try {
    await fn(reg);
  } finally {
    await reg.close();
  }
}

/** A clock a little ahead of the files' mtimes, so "grace 0" really means "older than now". */
function clockNow(): FakeClock {
  return new FakeClock(Date.now() + 1000);
}

async function blobStatus(url: string, name: string, digest: Digest): Promise<number> {
  const res = await fetch(`${url}/v2/${name}/blobs/${digest}`);
  await res.arrayBuffer();
  return res.status;
}

async function manifestStatus(url: string, name: string, ref: string): Promise<number> {
  const res = await fetch(`${url}/v2/${name}/manifests/${ref}`);
  await res.arrayBuffer();
  return res.status;
}

async function deleteManifest(url: string, name: string, digest: Digest): Promise<void> {
  const res = await fetch(`${url}/v2/${name}/manifests/${digest}`, { method: "DELETE" });
  await res.arrayBuffer();
  assert.equal(res.status, 202);
  assert.equal(await manifestStatus(url, name, digest), 404);
}

async function putManifest(url: string, name: string, ref: string, body: object, type: string): Promise<Digest> {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: type, ...body }));
  const res = await fetch(`${url}/v2/${name}/manifests/${ref}`, { method: "PUT", headers: { "Content-Type": type }, body: new Uint8Array(bytes) });
  assert.equal(res.status, 201, await res.text());
  return digestOf(bytes);
}

/** Two images in two repositories sharing the config and one layer; each has a layer of its own. */
async function pushTwoImages(url: string) {
  const a = await pushImage(url, "team/a", "v1", ["shared layer", "only in a"]);
  const b = await pushImage(url, "team/b", "v1", ["shared layer", "only in b"]);
  assert.equal(a.layers[0], b.layers[0]);
  assert.equal(a.config, b.config);
  return { a, b, shared: a.layers[0] as Digest, onlyA: a.layers[1] as Digest, onlyB: b.layers[1] as Digest };
}

test("gc keeps referenced blobs; after a manifest DELETE it removes only that image's unshared blobs", async () => {
  await withRegistry(async ({ url, server }) => {
    const { a, b, shared, onlyA, onlyB } = await pushTwoImages(url);

    const first = await collectGarbage(server.registry, { clock: clockNow(), graceMs: 0 });
    assert.deepEqual(first.blobsDeleted, [], "every blob is referenced");
    for (const d of [a.config, shared, onlyA]) assert.equal(await blobStatus(url, "team/a", d), 200);
    assert.equal(await manifestStatus(url, "team/a", "v1"), 200);

    await deleteManifest(url, "team/a", a.digest);
    const second = await collectGarbage(server.registry, { clock: clockNow(), graceMs: 0 });
    assert.deepEqual([...second.blobsDeleted].sort(), [a.digest, onlyA].sort(), "the manifest and its own layer go");
    assert.equal(second.bytesFreed, a.manifest.length + "only in a".length);

    assert.equal(await blobStatus(url, "team/a", onlyA), 404);
    assert.equal(await manifestStatus(url, "team/a", a.digest), 404);
    assert.equal(await manifestStatus(url, "team/b", "v1"), 200, "the other image is untouched");
    for (const [d, bytes] of [[b.config, undefined], [shared, "shared layer"], [onlyB, "only in b"]] as const) {
      const res = await fetch(`${url}/v2/team/b/blobs/${d}`);
      assert.equal(res.status, 200, `blob ${d} of team/b survives`);
      const body = Buffer.from(await res.arrayBuffer());
      if (bytes !== undefined) assert.equal(body.toString(), bytes);
      assert.equal(digestOf(body), d);
    }

    // the deleted image can be pushed again, and gc then keeps it
    const again = await pushImage(url, "team/a", "v1", ["shared layer", "only in a"]);
    assert.equal(again.digest, a.digest);
    assert.deepEqual((await collectGarbage(server.registry, { clock: clockNow(), graceMs: 0 })).blobsDeleted, []);
    assert.equal(await manifestStatus(url, "team/a", "v1"), 200);
    assert.equal(await blobStatus(url, "team/a", onlyA), 200);
  });
});

test("gc spares an unreferenced blob younger than the grace period, and takes it once older", async () => {
  await withRegistry(async ({ url, server }) => {
    const orphan = await pushBlob(url, "team/young", randomBytes(1000));
    const clock = clockNow();
    const hour = 3600_000;

    const young = await collectGarbage(server.registry, { clock, graceMs: hour });
    assert.deepEqual(young.blobsDeleted, []);
    assert.equal(await blobStatus(url, "team/young", orphan), 200);

    clock.step(30 * 60_000);
    assert.deepEqual((await collectGarbage(server.registry, { clock, graceMs: hour })).blobsDeleted, [], "30 min old: still young");

    clock.step(31 * 60_000);
    const old = await collectGarbage(server.registry, { clock, graceMs: hour });
    assert.deepEqual(old.blobsDeleted, [orphan]);
    assert.equal(await blobStatus(url, "team/young", orphan), 404);
  });
});

test("gc sees the mtime a push stamps from the registry's clock: kept while the grace period covers it, deleted after", async () => {
  const t = Date.UTC(2026, 0, 1, 12, 0, 0, 250);
  const clock = new FakeClock(t);
  const reg = await startRegistry({ clock });
  try {
    const { url, server } = reg;
    const data = randomBytes(1000);
    const orphan = await pushBlob(url, "team/clocked", data);
    assert.equal((await server.registry.blobs.stat(orphan))?.mtimeMs, t, "the upload's commit touches the blob at the fake time");

    clock.step(10 * 60_000);
    assert.deepEqual((await collectGarbage(server.registry, { clock, graceMs: 10 * 60_000 })).blobsDeleted, [], "exactly as old as the grace period: kept");

    await pushBlob(url, "team/clocked", data); // pushed again: touched at t + 10 min
    assert.equal((await server.registry.blobs.stat(orphan))?.mtimeMs, t + 10 * 60_000);
    assert.deepEqual((await collectGarbage(server.registry, { clock, graceMs: 0 })).blobsDeleted, [], "touched at the run's start: kept");

    clock.step(1);
    assert.deepEqual((await collectGarbage(server.registry, { clock, graceMs: 0 })).blobsDeleted, [orphan], "1 ms older than a zero grace: deleted");
    assert.equal(await blobStatus(url, "team/clocked", orphan), 404);

    const manifest = await putManifest(url, "team/clocked", "v1", {
      config: { mediaType: MediaType.ociConfig, digest: await pushBlob(url, "team/clocked", "{}"), size: 2 },
      layers: [],
    }, MediaType.ociManifest);
    assert.equal((await server.registry.blobs.stat(manifest))?.mtimeMs, t + 10 * 60_000 + 1, "a manifest put is stamped by the clock too");
  } finally {
    await reg.close();
  }
});

test("an upload in progress during gc is untouched and completes afterwards; a stale one is purged", async () => {
  await withRegistry(async ({ url, server, root }) => {
    const data = randomBytes(64 * 1024);
    const post = await fetch(`${url}/v2/team/upload/blobs/uploads/`, { method: "POST" });
    assert.equal(post.status, 202);
    const loc = new URL(post.headers.get("location") ?? "", url).href;
    const patch = await fetch(loc, {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `0-${32 * 1024 - 1}` },
      body: new Uint8Array(data.subarray(0, 32 * 1024)),
    });
    assert.equal(patch.status, 202);

    const clock = clockNow();
    const report = await collectGarbage(server.registry, { clock, graceMs: 0 });
    assert.equal(report.uploadsPurged, 0);
    assert.equal((await readdir(join(root, "uploads"))).length, 1, "the upload's files are still there");
    const status = await fetch(loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("range"), `0-${32 * 1024 - 1}`);

    const rest = await fetch(loc, {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream", "Content-Range": `${32 * 1024}-${data.length - 1}` },
      body: new Uint8Array(data.subarray(32 * 1024)),
    });
    assert.equal(rest.status, 202);
    const put = await fetch(`${loc}${loc.includes("?") ? "&" : "?"}digest=${digestOf(data)}`, { method: "PUT" });
    assert.equal(put.status, 201, await put.text());
    assert.equal(await blobStatus(url, "team/upload", digestOf(data)), 200);

    // an upload left idle past the upload TTL is purged
    const idle = await fetch(`${url}/v2/team/upload/blobs/uploads/`, { method: "POST" });
    const idleLoc = new URL(idle.headers.get("location") ?? "", url).href;
    clock.step(169 * 3600_000);
    const later = await collectGarbage(server.registry, { clock, graceMs: 3600_000 });
    assert.equal(later.uploadsPurged, 1);
    const gone = await fetch(idleLoc);
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), "BLOB_UPLOAD_UNKNOWN");
  });
});

test("podyard registry gc: --dry-run deletes nothing; --grace 0s then removes the deleted image's unshared blobs", async () => {
  await withRegistry(async ({ url, root }) => {
    const { a, b, shared, onlyA, onlyB } = await pushTwoImages(url);
    await deleteManifest(url, "team/a", a.digest);

    const dry = await runPodyard(["registry", "gc", "--root", root, "--dry-run", "--grace", "0s"]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would delete 2 blobs/);
    assert.ok(dry.stdout.includes(onlyA), "the dry run names the blob it would delete");
    assert.equal(await blobStatus(url, "team/a", onlyA), 200, "--dry-run deletes nothing");

    const young = await runPodyard(["registry", "gc", "--root", root]);
    assert.equal(young.code, 0, young.stderr);
    assert.match(young.stdout, /deleted 0 blobs/, "the default 1 h grace spares blobs pushed just now");
    assert.equal(await blobStatus(url, "team/a", onlyA), 200);

    const real = await runPodyard(["registry", "gc", "--root", root, "--grace", "0s"]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /deleted 2 blobs/);
    assert.equal(await blobStatus(url, "team/a", onlyA), 404);
    assert.equal(await manifestStatus(url, "team/b", "v1"), 200);
    for (const d of [b.config, shared, onlyB]) assert.equal(await blobStatus(url, "team/b", d), 200, `shared or live blob ${d} survives`);
  });
});

test("podyard registry gc --delete-untagged removes an untagged manifest but keeps one listed by a tagged index", async () => {
  await withRegistry(async ({ url, root }) => {
    const name = "team/multi";
    const config = await pushBlob(url, name, "{}");
    const layer = async (s: string): Promise<{ mediaType: string; digest: Digest; size: number }> => ({
      mediaType: MediaType.ociLayerGzip,
      digest: await pushBlob(url, name, s),
      size: s.length,
    });
    const image = async (ref: string, l: string): Promise<{ digest: Digest; layer: Digest }> => {
      const desc = await layer(l);
      const digest = await putManifest(url, name, ref, {
        config: { mediaType: MediaType.ociConfig, digest: config, size: 2 },
        layers: [desc],
      }, MediaType.ociManifest);
      return { digest, layer: desc.digest };
    };
    // untagged: pushed by digest only
    const untaggedLayer = await layer("untagged layer");
    const untaggedBody = { config: { mediaType: MediaType.ociConfig, digest: config, size: 2 }, layers: [untaggedLayer] };
    const untaggedBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, ...untaggedBody }));
    const untagged = await putManifest(url, name, digestOf(untaggedBytes), untaggedBody, MediaType.ociManifest);
    // listed by a tagged index, itself pushed by digest only
    const childBody = { config: { mediaType: MediaType.ociConfig, digest: config, size: 2 }, layers: [await layer("child layer")] };
    const childBytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, ...childBody }));
    const child = await putManifest(url, name, digestOf(childBytes), childBody, MediaType.ociManifest);
    const index = await putManifest(url, name, "multi", {
      manifests: [{ mediaType: MediaType.ociManifest, digest: child, size: childBytes.length, platform: { architecture: "amd64", os: "linux" } }],
    }, MediaType.ociIndex);
    const tagged = await image("v1", "tagged layer");

    const plain = await runPodyard(["registry", "gc", "--root", root, "--grace", "0s"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(await manifestStatus(url, name, untagged), 200, "without --delete-untagged an untagged manifest is live");

    const res = await runPodyard(["registry", "gc", "--root", root, "--grace", "0s", "--delete-untagged"]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /1 untagged manifests/);
    assert.equal(await manifestStatus(url, name, untagged), 404, "the untagged manifest is gone");
    assert.equal(await blobStatus(url, name, untaggedLayer.digest), 404, "and so is the layer only it used");

    assert.equal(await manifestStatus(url, name, "multi"), 200);
    assert.equal(await manifestStatus(url, name, index), 200);
    assert.equal(await manifestStatus(url, name, child), 200, "a manifest listed by a tagged index stays");
    assert.equal(await blobStatus(url, name, childBody.layers[0]?.digest as Digest), 200);
    assert.equal(await manifestStatus(url, name, "v1"), 200);
    assert.equal(await blobStatus(url, name, tagged.layer), 200);
    assert.equal(await blobStatus(url, name, config), 200, "the config shared by all stays");
  });
});
