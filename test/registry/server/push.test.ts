/** Conformance: pushing blobs and manifests in every shape clients use (oci-registry.md §1.3, §2.2). */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { errorCode, pushBlob, pushImage, startRegistry, type TestRegistry } from "../../helpers/registry.js";

let reg: TestRegistry;
before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg.close();
});

async function getBlob(name: string, digest: string): Promise<Response> {
  return fetch(`${reg.url}/v2/${name}/blobs/${digest}`);
}

async function startUpload(name: string): Promise<string> {
  const res = await fetch(`${reg.url}/v2/${name}/blobs/uploads/`, { method: "POST" });
  assert.equal(res.status, 202);
  const location = res.headers.get("location");
  assert.ok(location);
  assert.ok(res.headers.get("docker-upload-uuid"));
  return new URL(location, reg.url).toString();
}

test("monolithic: POST then PUT with the body", async () => {
  const data = randomBytes(1000);
  const location = await startUpload("push/mono");
  const digest = digestOf(data);
  const put = await fetch(`${location}?digest=${digest}`, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: new Uint8Array(data) });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get("location"), `/v2/push/mono/blobs/${digest}`);
  assert.equal(put.headers.get("docker-content-digest"), digest);
  assert.deepEqual(Buffer.from(await (await getBlob("push/mono", digest)).arrayBuffer()), data);
});

test("single POST with ?digest= and the body answers 201", async () => {
  const data = randomBytes(300);
  const digest = await pushBlob(reg.url, "push/single", data);
  assert.equal((await getBlob("push/single", digest)).status, 200);
});

test("streamed: PATCH without Content-Range, then PUT with an empty body", async () => {
  const data = randomBytes(200_000);
  const location = await startUpload("push/stream");
  const patch = await fetch(location, { method: "PATCH", headers: { "Content-Type": "application/octet-stream" }, body: new Uint8Array(data) });
  assert.equal(patch.status, 202);
  assert.equal(patch.headers.get("range"), `0-${data.length - 1}`);
  const next = new URL(patch.headers.get("location") ?? "", reg.url);
  const put = await fetch(`${next}?digest=${digestOf(data)}`, { method: "PUT" });
  assert.equal(put.status, 201);
  assert.deepEqual(Buffer.from(await (await getBlob("push/stream", digestOf(data))).arrayBuffer()), data);
});

test("chunked: ordered chunks, a 416 for an out-of-order one, status, and a last chunk on PUT", async () => {
  const data = randomBytes(3000);
  const location = await startUpload("push/chunked");
  const chunk = (start: number, end: number): RequestInit => ({
    method: "PATCH",
    headers: { "Content-Type": "application/octet-stream", "Content-Range": `${start}-${end}`, "Content-Length": String(end - start + 1) },
    body: new Uint8Array(data.subarray(start, end + 1)),
  });
  let res = await fetch(location, chunk(0, 999));
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("range"), "0-999");
  res = await fetch(location, chunk(1500, 1999));
  assert.equal(res.status, 416);
  await res.arrayBuffer();
  res = await fetch(location, { method: "GET" });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("range"), "0-999");
  assert.ok(res.headers.get("location"));
  res = await fetch(location, chunk(1000, 1999));
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("range"), "0-1999");
  const digest = digestOf(data);
  res = await fetch(`${location}?digest=${digest}`, {
    method: "PUT",
    headers: { "Content-Type": "application/octet-stream", "Content-Range": "2000-2999", "Content-Length": "1000" },
    body: new Uint8Array(data.subarray(2000)),
  });
  assert.equal(res.status, 201);
  assert.deepEqual(Buffer.from(await (await getBlob("push/chunked", digest)).arrayBuffer()), data);
});

test("cancel: DELETE on the location ends the upload", async () => {
  const location = await startUpload("push/cancel");
  const del = await fetch(location, { method: "DELETE" });
  assert.equal(del.status, 204);
  const status = await fetch(location);
  assert.equal(status.status, 404);
  assert.equal(await errorCode(status), "BLOB_UPLOAD_UNKNOWN");
});

test("an upload belongs to its repository", async () => {
  const location = await startUpload("push/owner");
  const uuid = location.split("/").pop() ?? "";
  const res = await fetch(`${reg.url}/v2/push/thief/blobs/uploads/${uuid}`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), "BLOB_UPLOAD_UNKNOWN");
});

test("a digest mismatch is 400 DIGEST_INVALID and stores nothing", async () => {
  const location = await startUpload("push/mismatch");
  const wrong = digestOf("something else");
  const res = await fetch(`${location}?digest=${wrong}`, { method: "PUT", body: "actual bytes" });
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), "DIGEST_INVALID");
  assert.equal((await getBlob("push/mismatch", wrong)).status, 404);
  assert.equal((await getBlob("push/mismatch", digestOf("actual bytes"))).status, 404);
});

test("the empty blob can be pushed and pulled", async () => {
  const digest = await pushBlob(reg.url, "push/empty", Buffer.alloc(0));
  const res = await getBlob("push/empty", digest);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-length"), "0");
});

test("sha512 blobs and manifests keep their algorithm", async () => {
  const data = randomBytes(100);
  const d512 = digestOf(data, "sha512");
  const res = await fetch(`${reg.url}/v2/push/sha512/blobs/uploads/?digest=${d512}`, { method: "POST", body: new Uint8Array(data) });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("docker-content-digest"), d512);
  const cfg = await pushBlob(reg.url, "push/sha512", "{}");
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: cfg, size: 2 },
    layers: [{ mediaType: MediaType.ociLayer, digest: d512, size: 100 }],
  });
  const m512 = digestOf(manifest, "sha512");
  const put = await fetch(`${reg.url}/v2/push/sha512/manifests/${m512}`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body: manifest });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get("docker-content-digest"), m512);
  const get = await fetch(`${reg.url}/v2/push/sha512/manifests/${m512}`);
  assert.equal(get.headers.get("docker-content-digest"), m512);
  assert.equal(await get.text(), manifest);
});

test("cross-repository mount: 201 when the source has the blob, else a normal upload", async () => {
  const digest = await pushBlob(reg.url, "push/source", "shared layer");
  let res = await fetch(`${reg.url}/v2/push/target/blobs/uploads/?mount=${digest}&from=push/source`, { method: "POST" });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("location"), `/v2/push/target/blobs/${digest}`);
  assert.equal((await getBlob("push/target", digest)).status, 200);
  res = await fetch(`${reg.url}/v2/push/target2/blobs/uploads/?mount=${digestOf("absent")}&from=push/source`, { method: "POST" });
  assert.equal(res.status, 202);
  assert.ok(res.headers.get("location"));
  res = await fetch(`${reg.url}/v2/push/target3/blobs/uploads/?mount=${digest}`, { method: "POST" });
  assert.equal(res.status, 201, "anonymous mount without from=");
});

test("manifest PUT: by tag, by digest, with ?tag= params, digest mismatch", async () => {
  const img = await pushImage(reg.url, "push/manifests", "v1");
  const byDigest = await fetch(`${reg.url}/v2/push/manifests/manifests/${img.digest}?tag=t1&tag=t2`, {
    method: "PUT",
    headers: { "Content-Type": MediaType.ociManifest },
    body: new Uint8Array(img.manifest),
  });
  assert.equal(byDigest.status, 201);
  assert.equal(byDigest.headers.get("docker-content-digest"), img.digest);
  assert.equal(byDigest.headers.get("location"), `/v2/push/manifests/manifests/${img.digest}`);
  assert.equal(byDigest.headers.get("oci-tag"), "t1, t2");
  const tags = await (await fetch(`${reg.url}/v2/push/manifests/tags/list`)).json() as { tags: string[] };
  assert.deepEqual(tags.tags, ["t1", "t2", "v1"]);
  const wrong = await fetch(`${reg.url}/v2/push/manifests/manifests/${digestOf("x")}`, {
    method: "PUT",
    headers: { "Content-Type": MediaType.ociManifest },
    body: new Uint8Array(img.manifest),
  });
  assert.equal(wrong.status, 400);
  assert.equal(await errorCode(wrong), "DIGEST_INVALID");
});

test("manifests the spec says to accept: index, nested and empty index, artifacts, no layers, custom fields, data", async () => {
  const name = "push/accept";
  const img = await pushImage(reg.url, name, "base");
  const emptyCfg = await pushBlob(reg.url, name, "{}");
  const put = async (ref: string, body: unknown, type: string = MediaType.ociManifest): Promise<Response> =>
    fetch(`${reg.url}/v2/${name}/manifests/${ref}`, { method: "PUT", headers: { "Content-Type": type }, body: JSON.stringify(body) });
  const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: img.digest, size: img.manifest.length, platform: { os: "linux", architecture: "amd64" } }] };
  const r1 = await put("index", index, MediaType.ociIndex);
  assert.equal(r1.status, 201);
  const indexDigest = r1.headers.get("docker-content-digest") ?? "";
  const nested = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociIndex, digest: indexDigest, size: JSON.stringify(index).length }] };
  assert.equal((await put("nested", nested, MediaType.ociIndex)).status, 201);
  assert.equal((await put("empty-index", { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }, MediaType.ociIndex)).status, 201);
  const artifact = { schemaVersion: 2, mediaType: MediaType.ociManifest, artifactType: "application/vnd.example+type", config: { mediaType: MediaType.ociEmpty, digest: emptyCfg, size: 2, data: "e30=" }, layers: [], custom: { field: true } };
  assert.equal((await put("artifact", artifact)).status, 201);
  const nondist = { schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: emptyCfg, size: 2 }, layers: [{ mediaType: MediaType.ociLayerNondistributableGzip, digest: digestOf("never pushed"), size: 12, urls: ["https://example.invalid/layer"] }] };
  assert.equal((await put("nondist", nondist)).status, 201);
  const missingIndexChild = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [{ mediaType: MediaType.ociManifest, digest: digestOf("nope"), size: 4 }] };
  const r2 = await put("broken-index", missingIndexChild, MediaType.ociIndex);
  assert.equal(r2.status, 400);
  assert.equal(await errorCode(r2), "MANIFEST_BLOB_UNKNOWN");
});

test("a manifest with a subject gets OCI-Subject and appears in referrers, even when the subject is missing", async () => {
  const name = "push/referrers";
  const img = await pushImage(reg.url, name, "v1");
  const emptyCfg = await pushBlob(reg.url, name, "{}");
  const sig = (subject: string, artifactType: string): string => JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType,
    config: { mediaType: MediaType.ociEmpty, digest: emptyCfg, size: 2 },
    layers: [],
    subject: { mediaType: MediaType.ociManifest, digest: subject, size: 10 },
    annotations: { "org.example.kind": artifactType },
  });
  const a = sig(img.digest, "application/vnd.example.sig");
  const b = sig(img.digest, "application/vnd.example.sbom");
  for (const body of [a, b]) {
    const res = await fetch(`${reg.url}/v2/${name}/manifests/${digestOf(body)}`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("oci-subject"), img.digest);
  }
  const all = await fetch(`${reg.url}/v2/${name}/referrers/${img.digest}`);
  assert.equal(all.status, 200);
  assert.equal(all.headers.get("content-type"), MediaType.ociIndex);
  const index = await all.json() as { manifests: { digest: string; artifactType: string; annotations: Record<string, string> }[] };
  assert.deepEqual(index.manifests.map((m) => m.digest).sort(), [digestOf(a), digestOf(b)].sort());
  assert.ok(index.manifests.every((m) => m.annotations["org.example.kind"] === m.artifactType));
  const filtered = await fetch(`${reg.url}/v2/${name}/referrers/${img.digest}?artifactType=application/vnd.example.sbom`);
  assert.equal(filtered.headers.get("oci-filters-applied"), "artifactType");
  assert.deepEqual((await filtered.json() as { manifests: { digest: string }[] }).manifests.map((m) => m.digest), [digestOf(b)]);
  const none = await fetch(`${reg.url}/v2/${name}/referrers/${digestOf("no subject")}`);
  assert.equal(none.status, 200);
  assert.deepEqual((await none.json() as { manifests: unknown[] }).manifests, []);
  const bad = await fetch(`${reg.url}/v2/${name}/referrers/sha256:abc`);
  assert.equal(bad.status, 400);

  const orphan = sig(digestOf("missing subject"), "application/vnd.example.sig");
  const res = await fetch(`${reg.url}/v2/${name}/manifests/${digestOf(orphan)}`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body: orphan });
  assert.equal(res.status, 201);
});
