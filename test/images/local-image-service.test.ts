/** The image service against a real registry, content store, database and snapshotter. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { digestOf, MediaType } from "../../src/oci/index.js";
import { chainID } from "../../src/store/index.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { buildTestImage, openTestNode, pushLayout } from "../helpers/images.js";
import type { PullEvent } from "../../src/images/index.js";
import { imageHistory } from "../../src/cli/image/image-history.js";
import { inspectImage } from "../../src/cli/image/inspect-image.js";
import { removeImage } from "../../src/cli/image/remove-image.js";

let reg: TestRegistry;
let image: Awaited<ReturnType<typeof buildTestImage>>;
let host: string;

before(async () => {
  reg = await startRegistry();
  host = new URL(reg.url).host;
  image = await buildTestImage({
    extraLayers: [{ entries: [{ type: "file", path: "etc/motd", content: Buffer.from("hello from layer two\n"), mode: 0o644 }], createdBy: "COPY motd /etc/motd" }],
  });
  await pushLayout(reg.url, "tutorial/busybox", "v1", image);
});
after(async () => {
  await reg.close();
  await image.cleanup();
});

test("pull by tag stores blobs, unpacks each layer once, records the name; a second pull is up to date", async () => {
  const node = await openTestNode();
  try {
    const events: PullEvent[] = [];
    const first = await node.env.imageService.pull(`${host}/tutorial/busybox:v1`, { onProgress: (e) => events.push(e) });
    assert.equal(first.digest, image.manifestDescriptor.digest);
    assert.equal(first.configDigest, image.manifest.config.digest);
    assert.equal(first.downloaded, true);
    assert.ok(events.some((e) => e.kind === "layer" && e.status === "Pull complete"));
    for (const d of [image.manifestDescriptor, image.manifest.config, ...image.manifest.layers]) {
      assert.ok(await node.env.content.info(d.digest), `blob ${d.digest} stored`);
    }
    const record = node.env.images.get(`${host}/tutorial/busybox:v1`);
    assert.equal(record?.configDigest, image.manifest.config.digest);
    const snaps: string[] = [];
    for (const s of await node.env.snapshotter.walk()) snaps.push(s.name);
    assert.equal(snaps.length, 2, "one committed snapshot per layer");

    const again = await node.env.imageService.pull(`${host}/tutorial/busybox:v1`);
    assert.equal(again.downloaded, false, "Image is up to date");
    const byDigest = await node.env.imageService.pull(`${host}/tutorial/busybox@${image.manifestDescriptor.digest}`);
    assert.equal(byDigest.configDigest, first.configDigest);
    const snaps2: string[] = [];
    for (const s of await node.env.snapshotter.walk()) snaps2.push(s.name);
    assert.deepEqual(snaps2.sort(), snaps.sort(), "layers are shared, not unpacked again");
  } finally {
    await node.close();
  }
});

test("concurrent pulls of one image download each blob once", async () => {
  const node = await openTestNode();
  try {
    const before = reg.server.metrics.render();
    const count = (text: string): number => Number(/podyard_registry_http_requests_total\{method="GET",route="blob",code="200"\} (\d+)/.exec(text)?.[1] ?? 0);
    await Promise.all([1, 2, 3, 4].map(() => node.env.imageService.pull(`${host}/tutorial/busybox:v1`)));
    const blobGets = count(reg.server.metrics.render()) - count(before);
    assert.equal(blobGets, 1 + image.manifest.layers.length, "config and each layer fetched once");
  } finally {
    await node.close();
  }
});

test("an index: this node's platform is chosen; --platform picks another; a missing platform is a clear error", async () => {
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: image.manifestDescriptor.digest, size: image.manifestDescriptor.size, platform: { os: "linux", architecture: process.arch === "arm64" ? "arm64" : "amd64" } },
      { mediaType: MediaType.ociManifest, digest: digestOf("attestation"), size: 10, platform: { os: "unknown", architecture: "unknown" } },
    ],
  });
  const put = await fetch(`${reg.url}/v2/tutorial/busybox/manifests/multi`, { method: "PUT", headers: { "Content-Type": MediaType.ociIndex }, body: index });
  assert.equal(put.status, 400, "the attestation manifest is not in the registry");
  const good = JSON.stringify({ ...JSON.parse(index) as object, manifests: (JSON.parse(index) as { manifests: unknown[] }).manifests.slice(0, 1) });
  const ok = await fetch(`${reg.url}/v2/tutorial/busybox/manifests/multi`, { method: "PUT", headers: { "Content-Type": MediaType.ociIndex }, body: good });
  assert.equal(ok.status, 201);
  const node = await openTestNode();
  try {
    const r = await node.env.imageService.pull(`${host}/tutorial/busybox:multi`);
    assert.equal(r.digest, digestOf(good));
    assert.equal(r.configDigest, image.manifest.config.digest);
    await assert.rejects(node.env.imageService.pull(`${host}/tutorial/busybox:multi`, { platform: { os: "linux", architecture: "s390x" } }), /no manifest for platform linux\/s390x/);
  } finally {
    await node.close();
  }
});

test("a registry that serves wrong bytes for a digest: the pull fails and nothing is stored", async () => {
  // a tiny registry that answers the manifest honestly but corrupts every blob
  const upstream = reg.url;
  const evil = createServer((req, res) => {
    void (async () => {
      const r = await fetch(`${upstream}${req.url ?? "/"}`, { method: req.method ?? "GET", headers: { Accept: String(req.headers.accept ?? "*/*") } });
      const body = Buffer.from(await r.arrayBuffer());
      if (req.url?.includes("/blobs/") && body.length > 0) body[body.length - 1] = (body[body.length - 1] ?? 0) ^ 0xff;
      const headers: Record<string, string> = {};
      for (const k of ["content-type", "content-length", "docker-content-digest", "location"]) {
        const v = r.headers.get(k);
        if (v !== null) headers[k] = v;
      }
      res.writeHead(r.status, headers);
      res.end(req.method === "HEAD" ? undefined : body);
    })();
  });
  await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
  const evilHost = `127.0.0.1:${(evil.address() as AddressInfo).port}`;
  const node = await openTestNode();
  try {
    await assert.rejects(node.env.imageService.pull(`${evilHost}/tutorial/busybox:v1`), /digest|mismatch|size/i);
    assert.equal(node.env.images.list().length, 0, "no image recorded");
    const stored: string[] = [];
    for await (const info of node.env.content.walk()) stored.push(info.digest);
    for (const d of [image.manifest.config, ...image.manifest.layers]) assert.ok(!stored.includes(d.digest), `corrupted ${d.digest} not stored`);
  } finally {
    await node.close();
    evil.close();
  }
});

test("tag, inspect, history, push to another registry, remove", async () => {
  const node = await openTestNode();
  const other = await startRegistry();
  try {
    const svc = node.env.imageService;
    await svc.pull(`${host}/tutorial/busybox:v1`);
    const otherHost = new URL(other.url).host;
    svc.tag(`${host}/tutorial/busybox:v1`, `${otherHost}/copied/busybox:v2`);
    const info = await inspectImage(svc, `${otherHost}/copied/busybox:v2`);
    assert.equal(info.Id, image.manifest.config.digest);
    assert.deepEqual((info.RootFS as { Layers: string[] }).Layers, image.config.rootfs.diff_ids);
    assert.deepEqual((info.RepoTags as string[]).sort(), [`${host}/tutorial/busybox:v1`, `${otherHost}/copied/busybox:v2`].sort());
    const history = await imageHistory(svc, `${host}/tutorial/busybox:v1`);
    assert.equal(history.length, 2);
    assert.equal(history[0]?.createdBy, "COPY motd /etc/motd");

    const pushed = await svc.push(`${otherHost}/copied/busybox:v2`);
    assert.equal(pushed.digest, image.manifestDescriptor.digest);
    const res = await fetch(`${other.url}/v2/copied/busybox/manifests/v2`);
    assert.equal(res.headers.get("docker-content-digest"), image.manifestDescriptor.digest);
    await res.arrayBuffer();

    await assert.rejects(removeImage(svc, image.manifest.config.digest), /must be forced/);
    const r1 = await removeImage(svc, `${otherHost}/copied/busybox:v2`);
    assert.deepEqual(r1.deleted, [], "the other name still needs the content");
    const r2 = await removeImage(svc, `${host}/tutorial/busybox:v1`);
    assert.ok(r2.deleted.includes(image.manifest.config.digest));
    const left: string[] = [];
    for (const s of await node.env.snapshotter.walk()) left.push(s.name);
    assert.deepEqual(left, [], "unused snapshots are removed with the image");
  } finally {
    await other.close();
    await node.close();
  }
});

test("rmi refuses an image a container uses unless forced", async () => {
  const { LocalImageService } = await import("../../src/images/index.js");
  const node = await openTestNode();
  try {
    const used = new Set<string>();
    const svc = new LocalImageService({ content: node.env.content, images: node.env.images, snapshotter: node.env.snapshotter, resolver: node.env.resolver, inUse: (id) => used.has(id), unpackInWorker: false });
    const pulled = await svc.pull(`${host}/tutorial/busybox:v1`);
    used.add(pulled.configDigest);
    await assert.rejects(removeImage(svc, `${host}/tutorial/busybox:v1`), /must force.*a container is using/);
    assert.ok(node.env.images.get(`${host}/tutorial/busybox:v1`), "still there");
    const forced = await removeImage(svc, `${host}/tutorial/busybox:v1`, { force: true });
    assert.deepEqual(forced.untagged, [`${host}/tutorial/busybox:v1`]);
    assert.deepEqual(forced.deleted, [], "content a container uses stays");
    // as docker after rmi -f: the image stays as <none>, and a later prune keeps its content
    assert.deepEqual(svc.list().map((r) => r.name), [pulled.configDigest], "listed as a dangling image");
    const pruned = await svc.prune();
    assert.ok(!pruned.includes(pulled.configDigest), `prune keeps the config a container's image needs: ${pruned.join(", ")}`);
    assert.ok((await svc.snapshotter.walk()).length > 0, "and its snapshots");
    // removing the dangling image itself, forced, lets it go
    await removeImage(svc, pulled.configDigest, { force: true });
    assert.deepEqual(svc.list(), []);
    await svc.close();
  } finally {
    await node.close();
  }
});

test("concurrent pulls of two images that share their base layer: it is downloaded once and unpacked once, and both pulls complete", async () => {
  const other = await buildTestImage({
    extraLayers: [{ entries: [{ type: "file", path: "etc/issue", content: Buffer.from("another image\n"), mode: 0o644 }], createdBy: "COPY issue /etc/issue" }],
  });
  const node = await openTestNode();
  try {
    assert.equal(other.manifest.layers[0]?.digest, image.manifest.layers[0]?.digest, "the same base layer");
    await pushLayout(reg.url, "tutorial/other", "v1", other);
    const before = reg.server.metrics.render();
    const count = (text: string): number => Number(/podyard_registry_http_requests_total\{method="GET",route="blob",code="200"\} (\d+)/.exec(text)?.[1] ?? 0);
    const [a, b] = await Promise.all([
      node.env.imageService.pull(`${host}/tutorial/busybox:v1`),
      node.env.imageService.pull(`${host}/tutorial/other:v1`),
    ]);
    assert.equal(a.configDigest, image.manifest.config.digest);
    assert.equal(b.configDigest, other.manifest.config.digest);
    // two configs, one shared base, two top layers
    assert.equal(count(reg.server.metrics.render()) - count(before), 2 + 1 + 2);
    const snaps = await node.env.snapshotter.walk();
    assert.equal(snaps.length, 3, "the base snapshot is shared");
    assert.ok(snaps.every((s) => s.kind === "committed"));
    const tops = snaps.filter((s) => s.parent !== undefined);
    assert.equal(tops.length, 2);
    assert.equal(new Set(tops.map((s) => s.parent)).size, 1, "both top layers sit on the one base");
  } finally {
    await node.close();
    await other.cleanup();
  }
});

test("a connection cut in the middle of each layer: the download resumes with Range while its extraction follows, and the pull completes", async () => {
  const upstream = reg.url;
  const layerPaths = new Set(image.manifest.layers.map((l) => `/blobs/${l.digest}`));
  const cut = new Set<string>();
  const ranges: string[] = [];
  const flaky = createServer((req, res) => {
    void (async () => {
      const headers: Record<string, string> = { Accept: String(req.headers.accept ?? "*/*") };
      if (req.headers.range !== undefined) {
        headers.Range = req.headers.range;
        ranges.push(req.headers.range);
      }
      const r = await fetch(`${upstream}${req.url ?? "/"}`, { method: req.method ?? "GET", headers });
      const body = Buffer.from(await r.arrayBuffer());
      const out: Record<string, string> = {};
      for (const k of ["content-type", "content-length", "content-range", "docker-content-digest", "location"]) {
        const v = r.headers.get(k);
        if (v !== null) out[k] = v;
      }
      res.writeHead(r.status, out);
      const blob = [...layerPaths].find((p) => req.url?.endsWith(p));
      if (req.method === "GET" && blob !== undefined && !cut.has(blob) && body.length > 1) {
        cut.add(blob); // the first GET of each layer stops halfway
        res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
        return;
      }
      res.end(req.method === "HEAD" ? undefined : body);
    })();
  });
  await new Promise<void>((resolve) => flaky.listen(0, "127.0.0.1", resolve));
  const flakyHost = `127.0.0.1:${(flaky.address() as AddressInfo).port}`;
  const node = await openTestNode();
  try {
    const pulled = await node.env.imageService.pull(`${flakyHost}/tutorial/busybox:v1`);
    assert.equal(pulled.configDigest, image.manifest.config.digest);
    assert.equal(cut.size, image.manifest.layers.length, "every layer's first download was cut");
    assert.equal(ranges.length, image.manifest.layers.length, "and resumed with Range");
    for (const l of image.manifest.layers) assert.equal((await node.env.content.info(l.digest))?.size, l.size);
    const snaps = await node.env.snapshotter.walk();
    assert.equal(snaps.filter((s) => s.kind === "committed").length, image.manifest.layers.length);
  } finally {
    await node.close();
    flaky.close();
  }
});

test("records from before chain IDs were kept get theirs from the config, and their unpacked size, when the service upgrades them", async () => {
  const node = await openTestNode();
  try {
    const name = `${host}/tutorial/busybox:v1`;
    await node.env.imageService.pull(name);
    const pulled = node.env.images.get(name);
    assert.equal(pulled?.chainID, chainID(image.config.rootfs.diff_ids), "a pull records the top chain ID");
    assert.ok((pulled?.unpackedSize ?? 0) > 0);
    // as migration 2 leaves a record it finds: no chain ID, no unpacked size
    node.env.db.prepare("UPDATE images SET chain_id = NULL, unpacked_size = NULL").run();
    assert.equal(node.env.images.get(name)?.chainID, undefined);
    const { LocalImageService } = await import("../../src/images/index.js");
    const svc = new LocalImageService({ content: node.env.content, images: node.env.images, snapshotter: node.env.snapshotter, resolver: node.env.resolver, unpackInWorker: false });
    await svc.upgradeRecords();
    const upgraded = node.env.images.get(name);
    assert.equal(upgraded?.chainID, pulled?.chainID);
    assert.equal(upgraded?.unpackedSize, pulled?.unpackedSize);
    await svc.close();
  } finally {
    await node.close();
  }
});
