import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realClock } from "../../../src/clock/index.js";
import { isNotFound, isUnavailable, NotImplementedError } from "../../../src/errdefs/index.js";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { ociErrorCode, RegistryClient, type FetchLike } from "../../../src/registry/client/index.js";
import { createPullThroughServer, ProxyCache } from "../../../src/registry/server/proxy-cache.js";
import { Registry } from "../../../src/registry/server/index.js";
import { collect, makeImage, rawServer, startRegistry, type TestImage } from "../client/fixtures.js";

async function pushImage(client: RegistryClient, repo: string, tag: string, img: TestImage): Promise<void> {
  for (const b of [img.config, ...img.layers]) await client.pushBlob(repo, b);
  await client.putManifest(repo, tag, img.manifest, MediaType.ociManifest);
}

async function pullImage(client: RegistryClient, repo: string, ref: string, img: TestImage): Promise<void> {
  const m = await client.getManifest(repo, ref);
  assert.equal(m.digest, img.manifestDigest);
  assert.ok(m.bytes.equals(img.manifest), `manifest ${repo}:${ref}`);
  for (const b of [img.config, ...img.layers]) assert.ok((await collect(await client.fetchBlob(repo, digestOf(b)))).equals(b), `blob of ${repo}:${ref}`);
}

async function leftovers(root: string): Promise<string[]> {
  return (await readdir(join(root, "uploads")).catch(() => [])).filter((f) => f.startsWith("proxy-"));
}

test("the pull-through cache serves upstream images, refuses pushes, and survives the upstream going away", async () => {
  const upstream = await startRegistry();
  let upstreamBlobGets = 0;
  let upstreamManifestGets = 0;
  const counting: FetchLike = (input, init) => {
    if (init?.method === "GET" && /\/blobs\/sha256:/.test(String(input))) upstreamBlobGets++;
    if (init?.method === "GET" && /\/manifests\//.test(String(input))) upstreamManifestGets++;
    return fetch(input, init);
  };
  const proxy = await startRegistry({}, (o) => createPullThroughServer({ ...o, remoteUrl: upstream.url, maxAttempts: 1, fetch: counting }));
  try {
    const img = makeImage([2048, 700 * 1024]);
    await pushImage(new RegistryClient({ baseUrl: upstream.url }), "team/app", "v1", img);
    const client = new RegistryClient({ baseUrl: proxy.url, maxAttempts: 1 });

    // concurrent pulls of one blob share one upstream download
    const big = img.layers[1]!;
    const all = await Promise.all(Array.from({ length: 4 }, async () => collect(await client.fetchBlob("team/app", digestOf(big)))));
    for (const b of all) assert.ok(b.equals(big));
    assert.equal(upstreamBlobGets, 1);

    await pullImage(client, "team/app", "v1", img);
    await pullImage(client, "team/app", img.manifestDigest, img);
    await pullImage(client, "team/app", "v1", img);
    assert.equal(upstreamManifestGets, 1, "a tag is checked with HEAD; a cached digest is not fetched again");
    assert.deepEqual(await client.resolve("team/app", "v1"), { mediaType: MediaType.ociManifest, digest: img.manifestDigest, size: img.manifest.length });

    // a blob upstream lacks is BLOB_UNKNOWN
    const res = await fetch(`${proxy.url}/v2/team/app/blobs/${digestOf("not upstream")}`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { errors: { code: string }[] }).errors[0]?.code, "BLOB_UNKNOWN");
    await assert.rejects(client.getManifest("team/app", "missing"), (e: Error) => isNotFound(e));

    // read-only: pushes get 405 UNSUPPORTED
    await assert.rejects(client.pushBlob("team/app", Buffer.from("new layer")), (e: Error) =>
      e instanceof NotImplementedError && ociErrorCode(e) === "UNSUPPORTED");
    await assert.rejects(client.putManifest("team/app", "v2", img.manifest, MediaType.ociManifest), (e: Error) =>
      e instanceof NotImplementedError && ociErrorCode(e) === "UNSUPPORTED");
    const del = await fetch(`${proxy.url}/v2/team/app/manifests/${img.manifestDigest}`, { method: "DELETE" });
    assert.equal(del.status, 405);

    // tags move upstream, and the cache follows
    const img2 = makeImage([64]);
    await pushImage(new RegistryClient({ baseUrl: upstream.url }), "team/app", "v1", img2);
    await pullImage(client, "team/app", "v1", img2);
    await pushImage(new RegistryClient({ baseUrl: upstream.url }), "team/app", "v1", img);
    await pullImage(client, "team/app", "v1", img);

    await upstream.close();
    await pullImage(client, "team/app", img.manifestDigest, img);
    await pullImage(client, "team/app", "v1", img);
    await assert.rejects(client.getManifest("team/app", digestOf("never seen")), (e: Error) => isUnavailable(e));
    assert.deepEqual(await leftovers(proxy.root), []);
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test("a blob whose upstream bytes do not match is refused and leaves no temporary file", async () => {
  const good = Buffer.from("expected layer");
  const upstream = await rawServer((req, res) => {
    if (req.url?.includes("/blobs/")) {
      const evil = Buffer.from("tampered layer");
      res.writeHead(200, { "Content-Length": evil.length });
      res.end(evil);
      return;
    }
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end('{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}');
  });
  const proxy = await startRegistry({}, (o) => createPullThroughServer({ ...o, remoteUrl: upstream.url, maxAttempts: 1 }));
  try {
    const client = new RegistryClient({ baseUrl: proxy.url, maxAttempts: 1 });
    await assert.rejects(client.fetchBlob("team/app", digestOf(good)).then(collect));
    assert.deepEqual(await leftovers(proxy.root), []);
    assert.equal(await proxy.server.registry.blobs.stat(digestOf(good)), undefined);
    assert.equal(await proxy.server.registry.blobs.stat(digestOf("tampered layer")), undefined);
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test("a Docker Hub upstream gets library/ for names without a slash; the cache keeps the local name", async () => {
  const root = await mkdtemp(join(tmpdir(), "podyard-proxy-"));
  try {
    const img = makeImage([10]);
    const asked: string[] = [];
    const hub: FetchLike = (input, init) => {
      asked.push(`${init?.method ?? "GET"} ${String(input)}`);
      return Promise.resolve(new Response(new Uint8Array(img.manifest), {
        status: 200,
        headers: { "Content-Type": MediaType.ociManifest, "Content-Length": String(img.manifest.length), "Docker-Content-Digest": img.manifestDigest },
      }));
    };
    const registry = new Registry(root, { clock: realClock });
    const cache = new ProxyCache({ root, registry, remoteUrl: "https://registry-1.docker.io", fetch: hub });
    const m = await cache.manifest("alpine", { tag: "3.19" });
    assert.equal(m?.digest, img.manifestDigest);
    assert.deepEqual(asked, [
      "HEAD https://registry-1.docker.io/v2/library/alpine/manifests/3.19",
      `GET https://registry-1.docker.io/v2/library/alpine/manifests/${img.manifestDigest}`,
    ]);
    const stored = await registry.getManifest("alpine", { tag: "3.19" });
    assert.ok(stored?.bytes.equals(img.manifest));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
