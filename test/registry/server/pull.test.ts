/** Conformance: pull and content discovery (oci-registry.md §2.2). */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { errorCode, pushBlob, pushImage, startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { rawRequest } from "../../helpers/registry-process.js";

let reg: TestRegistry;
before(async () => {
  reg = await startRegistry();
});
after(async () => {
  await reg.close();
});

test("GET /v2/ answers 200 {} with the API version header", async () => {
  const res = await fetch(`${reg.url}/v2/`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("docker-distribution-api-version"), "registry/2.0");
  assert.deepEqual(await res.json(), {});
});

test("manifests by tag and by digest come back byte for byte with type, digest and length", async () => {
  const img = await pushImage(reg.url, "pull/app", "v1");
  for (const ref of ["v1", img.digest]) {
    const res = await fetch(`${reg.url}/v2/pull/app/manifests/${ref}`, { headers: { Accept: MediaType.ociManifest } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), MediaType.ociManifest);
    assert.equal(res.headers.get("docker-content-digest"), img.digest);
    assert.equal(res.headers.get("content-length"), String(img.manifest.length));
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), img.manifest);
    const head = await fetch(`${reg.url}/v2/pull/app/manifests/${ref}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("docker-content-digest"), img.digest);
    assert.equal(head.headers.get("content-length"), String(img.manifest.length));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  }
});

test("If-None-Match with the ETag (the digest) gets 304 Not Modified without a body, for manifests and blobs", async () => {
  const img = await pushImage(reg.url, "pull/etag", "v1", ["etag layer"]);
  const layer = img.layers[0] ?? digestOf("");
  const cases = [
    { path: "/v2/pull/etag/manifests/v1", digest: img.digest },
    { path: `/v2/pull/etag/manifests/${img.digest}`, digest: img.digest },
    { path: `/v2/pull/etag/blobs/${layer}`, digest: layer },
  ];
  for (const { path, digest } of cases) {
    const full = await rawRequest(reg.url, { method: "GET", path });
    assert.equal(full.status, 200, path);
    assert.equal(full.headers.etag, `"${digest}"`, `${path}: the ETag is the digest`);
    for (const method of ["GET", "HEAD"]) {
      for (const tag of [`"${digest}"`, `W/"${digest}"`, `"sha256:${"0".repeat(64)}", "${digest}"`, "*"]) {
        const res = await rawRequest(reg.url, { method, path, headers: { "If-None-Match": tag } });
        assert.equal(res.status, 304, `${method} ${path} If-None-Match: ${tag}`);
        assert.equal(res.body.length, 0);
        assert.equal(res.headers.etag, `"${digest}"`);
        assert.equal(res.headers["docker-content-digest"], digest);
      }
    }
    const other = await rawRequest(reg.url, { method: "GET", path, headers: { "If-None-Match": `"${digestOf("something else")}"` } });
    assert.equal(other.status, 200, `${path}: another ETag gets the content`);
    assert.ok(other.body.equals(full.body));
  }
});

test("a Docker schema 2 manifest is served with its own media type", async () => {
  const config = await pushBlob(reg.url, "pull/docker", "{}");
  const layer = await pushBlob(reg.url, "pull/docker", "docker layer");
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: MediaType.dockerConfig, digest: config, size: 2 },
    layers: [{ mediaType: MediaType.dockerLayerGzip, digest: layer, size: 12 }],
  });
  const put = await fetch(`${reg.url}/v2/pull/docker/manifests/latest`, { method: "PUT", headers: { "Content-Type": MediaType.dockerManifest }, body });
  assert.equal(put.status, 201);
  const res = await fetch(`${reg.url}/v2/pull/docker/manifests/latest`);
  assert.equal(res.headers.get("content-type"), MediaType.dockerManifest);
  assert.equal(await res.text(), body);
});

test("unknown manifests are 404 MANIFEST_UNKNOWN, unknown repositories 404 NAME_UNKNOWN", async () => {
  await pushImage(reg.url, "pull/known", "v1");
  let res = await fetch(`${reg.url}/v2/pull/known/manifests/nope`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), "MANIFEST_UNKNOWN");
  res = await fetch(`${reg.url}/v2/pull/known/manifests/${digestOf("nothing")}`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), "MANIFEST_UNKNOWN");
  res = await fetch(`${reg.url}/v2/pull/never-pushed/manifests/v1`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), "NAME_UNKNOWN");
});

test("the message of a 404 says what is unknown: the repository for NAME_UNKNOWN, the tag or digest for MANIFEST_UNKNOWN", async () => {
  await pushImage(reg.url, "pull/said", "v1");
  const said = async (path: string): Promise<unknown> => {
    const res = await fetch(`${reg.url}/v2/${path}`);
    assert.equal(res.status, 404, path);
    return ((await res.json()) as { errors: { code: string; message: string }[] }).errors.map(({ code, message }) => ({ code, message }));
  };
  assert.deepEqual(await said("pull/said/manifests/v9"), [{ code: "MANIFEST_UNKNOWN", message: "manifest tag v9 unknown in repository pull/said" }]);
  assert.deepEqual(await said("pull/unsaid/manifests/v1"), [{ code: "NAME_UNKNOWN", message: "repository pull/unsaid not known to registry" }]);
  assert.deepEqual(await said(`pull/unsaid/manifests/${digestOf("x")}`), [{ code: "NAME_UNKNOWN", message: "repository pull/unsaid not known to registry" }]);
});

test("blob GET and HEAD, and byte ranges as the conformance suite asks", async () => {
  const data = randomBytes(4000);
  const digest = await pushBlob(reg.url, "pull/blobs", data);
  const res = await fetch(`${reg.url}/v2/pull/blobs/blobs/${digest}`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("docker-content-digest"), digest);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
  const head = await fetch(`${reg.url}/v2/pull/blobs/blobs/${digest}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get("content-length"), "4000");

  const cases: [string, number, number, number][] = [
    ["bytes=500-1499", 206, 500, 1499],
    ["bytes=500-", 206, 500, 3999],
    ["bytes=-500", 206, 3500, 3999],
    ["bytes=2000-5000", 206, 2000, 3999],
  ];
  for (const [range, status, start, end] of cases) {
    const r = await fetch(`${reg.url}/v2/pull/blobs/blobs/${digest}`, { headers: { Range: range } });
    assert.equal(r.status, status, range);
    assert.equal(r.headers.get("content-range"), `bytes ${start}-${end}/4000`, range);
    assert.deepEqual(Buffer.from(await r.arrayBuffer()), data.subarray(start, end + 1), range);
  }
  for (const range of ["bytes=500-0", "bytes=5000-10000"]) {
    const r = await fetch(`${reg.url}/v2/pull/blobs/blobs/${digest}`, { headers: { Range: range } });
    assert.equal(r.status, 416, range);
    assert.equal(r.headers.get("content-range"), "bytes */4000");
    await r.arrayBuffer();
  }
});

test("a blob is served only in repositories it was pushed or mounted to", async () => {
  const digest = await pushBlob(reg.url, "pull/owner", "private bytes");
  const res = await fetch(`${reg.url}/v2/pull/other/blobs/${digest}`);
  assert.equal(res.status, 404);
  assert.equal(await errorCode(res), "BLOB_UNKNOWN");
});

test("tags list: lexical order, n, last with and without n, Link, n=0, unknown repo", async () => {
  const img = await pushImage(reg.url, "pull/tags", "c");
  for (const tag of ["a", "b", "d", "e"]) {
    const put = await fetch(`${reg.url}/v2/pull/tags/manifests/${tag}`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body: new Uint8Array(img.manifest) });
    assert.equal(put.status, 201);
  }
  const all = await fetch(`${reg.url}/v2/pull/tags/tags/list`);
  assert.deepEqual(await all.json(), { name: "pull/tags", tags: ["a", "b", "c", "d", "e"] });

  const page = await fetch(`${reg.url}/v2/pull/tags/tags/list?n=2`);
  assert.deepEqual(await page.json(), { name: "pull/tags", tags: ["a", "b"] });
  assert.equal(page.headers.get("link"), '</v2/pull/tags/tags/list?n=2&last=b>; rel="next"');

  const next = await fetch(`${reg.url}/v2/pull/tags/tags/list?n=2&last=b`);
  assert.deepEqual((await next.json() as { tags: string[] }).tags, ["c", "d"]);
  const lastOnly = await fetch(`${reg.url}/v2/pull/tags/tags/list?last=c`);
  assert.deepEqual((await lastOnly.json() as { tags: string[] }).tags, ["d", "e"]);
  const tail = await fetch(`${reg.url}/v2/pull/tags/tags/list?n=5&last=c`);
  assert.deepEqual((await tail.json() as { tags: string[] }).tags, ["d", "e"]);
  assert.equal(tail.headers.get("link"), null);
  const zero = await fetch(`${reg.url}/v2/pull/tags/tags/list?n=0`);
  assert.deepEqual((await zero.json() as { tags: string[] }).tags, []);
  assert.equal(zero.headers.get("link"), null);

  const bad = await fetch(`${reg.url}/v2/pull/tags/tags/list?n=-1`);
  assert.equal(bad.status, 400);
  assert.equal(await errorCode(bad), "PAGINATION_NUMBER_INVALID");
  const unknown = await fetch(`${reg.url}/v2/pull/none/tags/list`);
  assert.equal(unknown.status, 404);
  assert.equal(await errorCode(unknown), "NAME_UNKNOWN");
});

test("_catalog lists repositories with manifests, paginated", async () => {
  await pushImage(reg.url, "catalog/a", "v1");
  await pushImage(reg.url, "catalog/b", "v1");
  const res = await fetch(`${reg.url}/v2/_catalog`);
  const { repositories } = await res.json() as { repositories: string[] };
  assert.ok(repositories.includes("catalog/a") && repositories.includes("catalog/b"));
  assert.deepEqual(repositories, [...repositories].sort());
  const page = await fetch(`${reg.url}/v2/_catalog?n=1&last=catalog/a`);
  assert.deepEqual(await page.json(), { repositories: ["catalog/b"] });
  assert.match(page.headers.get("link") ?? "", /rel="next"/);
});

test("a method a route lacks is 405 UNSUPPORTED", async () => {
  const res = await fetch(`${reg.url}/v2/pull/app/tags/list`, { method: "DELETE" });
  assert.equal(res.status, 405);
  assert.equal(await errorCode(res), "UNSUPPORTED");
});
