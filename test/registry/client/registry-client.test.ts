import { test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { isInvalidArgument, isNotFound, NotFoundError } from "../../../src/errdefs/index.js";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { ociErrorCode, RegistryClient, registryBaseUrl } from "../../../src/registry/client/index.js";
import { collect, makeImage, startRegistry } from "./fixtures.js";

test("push then pull round trip: manifests and blobs come back byte for byte", async () => {
  const reg = await startRegistry();
  try {
    const client = new RegistryClient({ host: reg.host }); // loopback: plain HTTP by default
    assert.equal(client.baseUrl.protocol, "http:");
    await client.ping();
    const img = makeImage([1024, 3 * 1024 * 1024]);
    const repo = "library/roundtrip";

    assert.deepEqual(await client.pushBlob(repo, img.config), { digest: digestOf(img.config), size: img.config.length });
    // one layer monolithic from a buffer, the other streamed in small chunks through PATCH
    await client.pushBlob(repo, img.layers[0]!);
    const big = img.layers[1]!;
    const chunks = Array.from({ length: Math.ceil(big.length / 65536) }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    assert.deepEqual(await client.pushBlob(repo, Readable.from(chunks), { digest: digestOf(big) }), { digest: digestOf(big), size: big.length });
    // pushing a buffer that is already there is a HEAD, not an upload
    await client.pushBlob(repo, img.config);
    const digest = await client.putManifest(repo, "v1", img.manifest, MediaType.ociManifest);
    assert.equal(digest, img.manifestDigest);

    assert.deepEqual(await client.resolve(repo, "v1"), { mediaType: MediaType.ociManifest, digest, size: img.manifest.length });
    for (const ref of ["v1", digest]) {
      const m = await client.getManifest(repo, ref);
      assert.equal(m.digest, digest);
      assert.equal(m.mediaType, MediaType.ociManifest);
      assert.ok(m.bytes.equals(img.manifest));
    }
    for (const blob of [img.config, ...img.layers]) {
      const got = await collect(await client.fetchBlob(repo, digestOf(blob), { size: blob.length }));
      assert.ok(got.equals(blob));
    }
    assert.equal(await client.blobExists(repo, digestOf(big)), true);
    assert.equal(await client.blobExists(repo, digestOf("absent")), false);
  } finally {
    await reg.close();
  }
});

test("tags follow Link pagination; mount links a blob from another repository", async () => {
  const reg = await startRegistry();
  try {
    const client = new RegistryClient({ baseUrl: reg.url });
    const img = makeImage([512]);
    for (const b of [img.config, ...img.layers]) await client.pushBlob("a/src", b);
    const tags = ["1.0", "1.1", "2.0", "latest", "z"];
    for (const t of tags) await client.putManifest("a/src", t, img.manifest, MediaType.ociManifest);
    assert.deepEqual(await client.tags("a/src", { pageSize: 2 }), tags);
    assert.deepEqual(await client.tags("a/src"), tags);

    assert.equal(await client.mountBlob("a/dst", digestOf(img.layers[0]!), "a/src"), true);
    assert.ok((await collect(await client.fetchBlob("a/dst", digestOf(img.layers[0]!)))).equals(img.layers[0]!));
    assert.equal(await client.mountBlob("a/dst", digestOf("never pushed"), "a/src"), false);
    assert.equal(await reg.server.registry.uploads.stale(Number.MAX_SAFE_INTEGER).then((s) => s.length), 0, "the unused upload was cancelled");
  } finally {
    await reg.close();
  }
});

test("errors are errdefs classes naming the reference and the host, with the OCI code", async () => {
  const reg = await startRegistry();
  try {
    const client = new RegistryClient({ baseUrl: reg.url });
    const img = makeImage([16]);
    for (const b of [img.config, ...img.layers]) await client.pushBlob("library/x", b);
    await client.putManifest("library/x", "v1", img.manifest, MediaType.ociManifest);

    const unknownTag = await client.getManifest("library/x", "tag").then(() => undefined, (e: unknown) => e);
    assert.ok(unknownTag instanceof NotFoundError);
    assert.equal(unknownTag.message, `manifest unknown: registry ${reg.host} has no manifest for library/x:tag (MANIFEST_UNKNOWN)`);
    assert.equal(ociErrorCode(unknownTag), "MANIFEST_UNKNOWN");

    // HEAD cannot carry the code: resolve falls back to GET and reports the same error
    await assert.rejects(client.resolve("library/nothing", "latest"), (e: Error) =>
      isNotFound(e) && e.message === `repository name unknown: registry ${reg.host} has no manifest for library/nothing:latest (NAME_UNKNOWN)`);
    await assert.rejects(client.fetchBlob("library/x", digestOf("nope")), (e: Error) =>
      isNotFound(e) && ociErrorCode(e) === "BLOB_UNKNOWN" && e.message.includes(`registry ${reg.host} has no blob ${digestOf("nope")} in library/x`));
    await assert.rejects(client.tags("library/nothing"), (e: Error) => isNotFound(e) && ociErrorCode(e) === "NAME_UNKNOWN");
    // the server refuses a manifest whose layers it lacks
    const orphan = makeImage([8]);
    await assert.rejects(client.putManifest("library/x", "orphan", orphan.manifest, MediaType.ociManifest), (e: Error) =>
      isInvalidArgument(e) && ociErrorCode(e) === "MANIFEST_BLOB_UNKNOWN" && e.message.includes(`registry ${reg.host}`));
    // the client refuses content that does not match what it was told
    await assert.rejects(client.pushBlob("library/x", Buffer.from("abc"), { digest: digestOf("abd") }), (e: Error) => isInvalidArgument(e));
    await assert.rejects(client.pushBlob("library/x", Readable.from([Buffer.from("abc")]), { digest: digestOf("abd") }), (e: Error) =>
      isInvalidArgument(e) && e.message.startsWith("digest mismatch"));
    assert.equal(await client.blobExists("library/x", digestOf("abc")), false);
    assert.equal((await reg.server.registry.uploads.stale(Number.MAX_SAFE_INTEGER)).length, 0, "the failed upload was cancelled");
    await assert.rejects(client.getManifest("Bad Name", "v1"), (e: Error) => isInvalidArgument(e));
  } finally {
    await reg.close();
  }
});

test("registryBaseUrl: Docker Hub, loopback over HTTP, HTTPS elsewhere", () => {
  const cases: [string, boolean | undefined, string][] = [
    ["docker.io", undefined, "https://registry-1.docker.io/"],
    ["index.docker.io", undefined, "https://registry-1.docker.io/"],
    ["localhost:5000", undefined, "http://localhost:5000/"],
    ["127.0.0.1:5000", undefined, "http://127.0.0.1:5000/"],
    ["127.3.2.1", undefined, "http://127.3.2.1/"],
    ["[::1]:5000", undefined, "http://[::1]:5000/"],
    ["quay.io", undefined, "https://quay.io/"],
    ["128.0.0.1:5000", undefined, "https://128.0.0.1:5000/"],
    ["registry.lan:5000", true, "http://registry.lan:5000/"],
    ["127.0.0.1:5000", false, "https://127.0.0.1:5000/"],
  ];
  for (const [host, insecure, want] of cases) {
    assert.equal(registryBaseUrl(host, insecure === undefined ? {} : { insecure }).href, want, host);
  }
  assert.throws(() => registryBaseUrl("a/b"), (e: Error) => isInvalidArgument(e));
});

test("Docker Hub names without a slash are official images under library/", async () => {
  const seen: string[] = [];
  const client = new RegistryClient({
    host: "docker.io",
    fetch: (input) => {
      seen.push(String(input));
      return Promise.resolve(new Response(null, { status: 200 }));
    },
  });
  assert.equal(await client.blobExists("alpine", digestOf("x")), true);
  assert.equal(await client.blobExists("bitnami/redis", digestOf("x")), true);
  assert.deepEqual(seen, [
    `https://registry-1.docker.io/v2/library/alpine/blobs/${digestOf("x")}`,
    `https://registry-1.docker.io/v2/bitnami/redis/blobs/${digestOf("x")}`,
  ]);
});
