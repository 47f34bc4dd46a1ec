/**
 * The registry under bad input and faults: invalid names, tags and digests, malformed
 * and oversized manifests, short and misdeclared chunks, clients and servers killed
 * in the middle of an upload, and the same blob pushed by many clients at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";
import { digestOf, MediaType, type Digest } from "../../../src/oci/index.js";
import { errorCode, pushBlob, pushImage, startRegistry, type TestRegistry } from "../../helpers/registry.js";
import {
  eventually,
  makeTempDir,
  rawErrorCode,
  rawRequest,
  removeDir,
  startRegistryProcess,
  walkTree,
  type RawResponse,
  type RegistryProcess,
} from "../../helpers/registry-process.js";

const MiB = 1024 * 1024;

/** A registry whose storage root is `<parent>/store`, so a test can see anything written next to it. */
async function withRegistry(fn: (reg: TestRegistry, parent: string) => Promise<void>): Promise<void> {
  const parent = await makeTempDir("faults");
  const root = join(parent, "store");
  await mkdir(root);
  const reg = await startRegistry({ root });
  try {
    await fn(reg, parent);
  } finally {
    await reg.close();
    await removeDir(parent);
  }
}

/** POST /blobs/uploads/ → the upload's absolute location. */
async function startUpload(url: string, name: string): Promise<string> {
  const res = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: "POST" });
  assert.equal(res.status, 202, `POST upload: ${await res.text()}`);
  const loc = res.headers.get("location");
  assert.ok(loc, "POST upload has a Location");
  return new URL(loc, url).href;
}

function withQuery(loc: string, key: string, value: string): string {
  const u = new URL(loc);
  u.searchParams.set(key, value);
  return u.href;
}

async function patchChunk(loc: string, data: Buffer, start: number): Promise<Response> {
  return fetch(loc, {
    method: "PATCH",
    headers: { "Content-Type": "application/octet-stream", "Content-Range": `${start}-${start + data.length - 1}` },
    body: new Uint8Array(data),
  });
}

/** The number of bytes an upload holds, from GET <location> (204 + Range). */
async function uploadedBytes(loc: string): Promise<number> {
  const res = await fetch(loc);
  await res.arrayBuffer();
  assert.equal(res.status, 204, `GET ${loc}`);
  const range = res.headers.get("range");
  assert.match(range ?? "", /^0-\d+$/, `Range of GET ${loc}`);
  return Number((range ?? "0-0").split("-")[1]) + 1;
}

/** PATCH the rest of `data` from `offset` (waiting for the server to release the session), then PUT ?digest. */
async function finishUpload(loc: string, data: Buffer, offset: number): Promise<void> {
  if (offset < data.length) {
    await eventually(async () => {
      const res = await patchChunk(loc, data.subarray(offset), offset);
      assert.equal(res.status, 202, `PATCH ${offset}-${data.length - 1}: ${res.status} ${await res.text()}`);
      assert.equal(res.headers.get("range"), `0-${data.length - 1}`);
    });
  }
  const put = await fetch(withQuery(loc, "digest", digestOf(data)), { method: "PUT" });
  assert.equal(put.status, 201, `closing PUT: ${await put.text()}`);
  assert.equal(put.headers.get("docker-content-digest"), digestOf(data));
}

async function assertBlobServed(url: string, name: string, data: Buffer): Promise<void> {
  const res = await fetch(`${url}/v2/${name}/blobs/${digestOf(data)}`);
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body.length, data.length);
  assert.equal(digestOf(body), digestOf(data), "served blob has the pushed bytes");
}

async function assertBlobAbsent(url: string, name: string, digest: Digest): Promise<void> {
  for (const method of ["HEAD", "GET"]) {
    const res = await fetch(`${url}/v2/${name}/blobs/${digest}`, { method });
    await res.arrayBuffer();
    assert.equal(res.status, 404, `${method} blob ${digest} must not be served`);
  }
}

/** The server still answers (an error on one request must not take it down). */
async function assertServerUp(url: string, after: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  const res = await fetch(`${url}/v2/`).catch((err: unknown) => err as Error);
  assert.ok(!(res instanceof Error), `the registry still answers after ${after}: ${res instanceof Error ? res.message : ""}`);
  await res.arrayBuffer();
  assert.equal(res.status, 200, `GET /v2/ after ${after}`);
}

function assertOciError(res: RawResponse, status: number, codes: string[], what: string): void {
  assert.equal(res.status, status, `${what}: status (body ${res.body.toString("utf8").slice(0, 200)})`);
  if (res.status >= 400 && codes.length > 0) {
    assert.match(String(res.headers["content-type"]), /^application\/json/, `${what}: JSON error body`);
    const code = rawErrorCode(res);
    assert.ok(code !== undefined && codes.includes(code), `${what}: code ${code}, want one of ${codes.join(", ")}`);
  }
}

function ociManifest(config: { digest: Digest; size: number }, layers: { digest: Digest; size: number }[], extra: object = {}): Buffer {
  return Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...config },
    layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, ...l })),
    ...extra,
  }));
}

const UUID = "0b3c2a5e-4f7e-4c2a-9d8e-1f2a3b4c5d6e";
const VALID_DIGEST = digestOf("anything");

test("invalid repository names get 400 NAME_INVALID on every route, and nothing is written outside the store", async () => {
  await withRegistry(async ({ url, root }, parent) => {
    const long = `${"a".repeat(100)}/${"b".repeat(100)}/${"c".repeat(60)}`;
    const names = ["../x", "A/b", "a//b", "a/", "-a", long, "%2e%2e/x", "a/%2e%2e/x", "a/../../x"];
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
    const wrong: string[] = [];
    for (const name of names) {
      const calls: { method: string; path: string; body?: Buffer; headers?: Record<string, string> }[] = [
        { method: "GET", path: `/v2/${name}/manifests/latest` },
        { method: "HEAD", path: `/v2/${name}/manifests/latest` },
        { method: "PUT", path: `/v2/${name}/manifests/latest`, body: manifest, headers: { "Content-Type": MediaType.ociIndex } },
        { method: "DELETE", path: `/v2/${name}/manifests/latest` },
        { method: "GET", path: `/v2/${name}/blobs/${VALID_DIGEST}` },
        { method: "DELETE", path: `/v2/${name}/blobs/${VALID_DIGEST}` },
        { method: "POST", path: `/v2/${name}/blobs/uploads/` },
        { method: "POST", path: `/v2/${name}/blobs/uploads/?digest=${digestOf("x")}`, body: Buffer.from("x") },
        { method: "GET", path: `/v2/${name}/blobs/uploads/${UUID}` },
        { method: "PATCH", path: `/v2/${name}/blobs/uploads/${UUID}`, body: Buffer.from("chunk") },
        { method: "PUT", path: `/v2/${name}/blobs/uploads/${UUID}?digest=${digestOf("x")}`, body: Buffer.from("x") },
        { method: "GET", path: `/v2/${name}/tags/list` },
      ];
      for (const c of calls) {
        const res = await rawRequest(url, c);
        const what = `${c.method} ${c.path.slice(0, 80)}`;
        assert.ok(res.status < 500, `${what}: never 5xx, got ${res.status}`);
        const code = rawErrorCode(res);
        if (res.status !== 400 || (c.method !== "HEAD" && code !== "NAME_INVALID")) {
          wrong.push(`${what.slice(0, 60)} -> ${res.status} ${code ?? ""}`);
        }
      }
    }
    // nothing but the store in the parent, nothing but the three stores in the root, no repository
    assert.deepEqual(await readdir(parent), ["store"]);
    for (const p of await walkTree(root)) {
      assert.match(p, /^(repositories|blobs|uploads)\//, `unexpected path ${p} under the storage root`);
      if (p.startsWith("repositories/") && p !== "repositories/") wrong.push(`created by a request naming an invalid repository: ${p}`);
    }
    assert.deepEqual(wrong, [], "every request naming an invalid repository gets 400 NAME_INVALID and writes nothing");
  });
});

test("invalid tags get 400 TAG_INVALID on GET and PUT", async () => {
  await withRegistry(async ({ url, root }) => {
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
    const manifestDigest = digestOf(manifest);
    for (const tag of ["-x", ".x", "a".repeat(129), "a%2Fb", "a:b:c"]) {
      for (const c of [
        { method: "GET", path: `/v2/ok/repo/manifests/${tag}` },
        { method: "PUT", path: `/v2/ok/repo/manifests/${tag}`, body: manifest, headers: { "Content-Type": MediaType.ociIndex } },
        { method: "DELETE", path: `/v2/ok/repo/manifests/${tag}` },
      ]) {
        const res = await rawRequest(url, c);
        // a reference with a colon is read as a digest, so DIGEST_INVALID is right for it too
        assertOciError(res, 400, ["TAG_INVALID", "DIGEST_INVALID", "MANIFEST_INVALID"], `${c.method} tag ${tag.slice(0, 20)}`);
      }
      const put = await rawRequest(url, {
        method: "PUT",
        path: `/v2/ok/repo/manifests/${manifestDigest}?tag=${encodeURIComponent(tag)}`,
        body: manifest,
        headers: { "Content-Type": MediaType.ociIndex },
      });
      assertOciError(put, 400, ["TAG_INVALID"], `PUT by digest with ?tag=${tag.slice(0, 20)}`);
    }
    const get = await fetch(`${url}/v2/ok/repo/manifests/${manifestDigest}`);
    await get.arrayBuffer();
    assert.equal(get.status, 404, "a refused PUT stores nothing");
    for (const p of await walkTree(root)) assert.ok(!p.includes("_manifests/tags/"), `no tag file may be written: ${p}`);
  });
});

test("invalid digests get 400 DIGEST_INVALID on blob, manifest, upload and referrers routes", async () => {
  await withRegistry(async ({ url, root }, parent) => {
    const digests = [
      "sha256:abc",
      `sha256:${"A".repeat(64)}`,
      `sha256:${"AB12".repeat(16)}`,
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha256:..%2F..%2Fetc",
      `sha256:..%2F..%2F${"a".repeat(58)}`,
      "sha256:",
      `sha512:${"a".repeat(64)}`,
    ];
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] }));
    for (const d of digests) {
      const loc = new URL(await startUpload(url, "ok/repo"));
      const q = encodeURIComponent(decodeURIComponent(d));
      const calls: { method: string; path: string; body?: Buffer; headers?: Record<string, string> }[] = [
        { method: "GET", path: `/v2/ok/repo/blobs/${d}` },
        { method: "DELETE", path: `/v2/ok/repo/blobs/${d}` },
        { method: "GET", path: `/v2/ok/repo/manifests/${d}` },
        { method: "PUT", path: `/v2/ok/repo/manifests/${d}`, body: manifest, headers: { "Content-Type": MediaType.ociIndex } },
        { method: "DELETE", path: `/v2/ok/repo/manifests/${d}` },
        { method: "GET", path: `/v2/ok/repo/referrers/${d}` },
        { method: "POST", path: `/v2/ok/repo/blobs/uploads/?digest=${q}`, body: Buffer.from("data") },
        { method: "POST", path: `/v2/ok/repo/blobs/uploads/?mount=${q}&from=other/repo` },
        { method: "PUT", path: `${loc.pathname}?digest=${q}`, body: Buffer.from("data") },
      ];
      for (const c of calls) {
        const res = await rawRequest(url, c);
        assertOciError(res, 400, ["DIGEST_INVALID"], `${c.method} ${c.path}`);
      }
      const head = await rawRequest(url, { method: "HEAD", path: `/v2/ok/repo/blobs/${d}` });
      assert.equal(head.status, 400, `HEAD blob ${d}`);
    }
    assert.deepEqual(await readdir(parent), ["store"]);
    for (const p of await walkTree(root)) {
      assert.match(p, /^(repositories|blobs|uploads)\//, `unexpected path ${p}`);
      assert.ok(!/etc|\.\./.test(p), `no path may be built from a digest: ${p}`);
    }
    const blobs = (await walkTree(join(root, "blobs"))).filter((p) => !p.endsWith("/"));
    assert.deepEqual(blobs, [], "no blob stored by a refused request");
  });
});

test("malformed manifests get 400 MANIFEST_INVALID / MANIFEST_BLOB_UNKNOWN and are not stored", async () => {
  await withRegistry(async ({ url }) => {
    const name = "bad/manifests";
    const configBytes = Buffer.from("{}");
    const layerBytes = Buffer.from("layer");
    const config = { digest: await pushBlob(url, name, configBytes), size: configBytes.length };
    const layer = { digest: await pushBlob(url, name, layerBytes), size: layerBytes.length };
    const good = ociManifest(config, [layer]);
    const cases: { what: string; body: Buffer; type: string; code: string }[] = [
      { what: "not JSON", body: Buffer.from("{ this is not json"), type: MediaType.ociManifest, code: "MANIFEST_INVALID" },
      { what: "a JSON array", body: Buffer.from("[]"), type: MediaType.ociManifest, code: "MANIFEST_INVALID" },
      { what: "empty body", body: Buffer.alloc(0), type: MediaType.ociManifest, code: "MANIFEST_INVALID" },
      {
        what: "schemaVersion 1",
        body: Buffer.from(JSON.stringify({ ...JSON.parse(good.toString()) as object, schemaVersion: 1 })),
        type: MediaType.ociManifest,
        code: "MANIFEST_INVALID",
      },
      {
        what: "layer with a bad digest",
        body: ociManifest(config, [{ digest: "sha256:abc" as Digest, size: 5 }]),
        type: MediaType.ociManifest,
        code: "MANIFEST_INVALID",
      },
      {
        what: "layer with a negative size",
        body: ociManifest(config, [{ digest: layer.digest, size: -1 }]),
        type: MediaType.ociManifest,
        code: "MANIFEST_INVALID",
      },
      { what: "mediaType differs from Content-Type", body: good, type: MediaType.dockerManifest, code: "MANIFEST_INVALID" },
      {
        what: "a layer never pushed",
        body: ociManifest(config, [layer, { digest: digestOf("never pushed"), size: 12 }]),
        type: MediaType.ociManifest,
        code: "MANIFEST_BLOB_UNKNOWN",
      },
      {
        what: "a config never pushed",
        body: ociManifest({ digest: digestOf("no config"), size: 9 }, [layer]),
        type: MediaType.ociManifest,
        code: "MANIFEST_BLOB_UNKNOWN",
      },
    ];
    for (const c of cases) {
      const res = await fetch(`${url}/v2/${name}/manifests/bad`, { method: "PUT", headers: { "Content-Type": c.type }, body: new Uint8Array(c.body) });
      assert.equal(res.status, 400, `${c.what}: status`);
      assert.equal(await errorCode(res), c.code, `${c.what}: code`);
      const byDigest = await fetch(`${url}/v2/${name}/manifests/${digestOf(c.body)}`);
      await byDigest.arrayBuffer();
      assert.equal(byDigest.status, 404, `${c.what}: nothing stored`);
    }
    const tag = await fetch(`${url}/v2/${name}/manifests/bad`);
    assert.equal(tag.status, 404);
    assert.equal(await errorCode(tag), "MANIFEST_UNKNOWN");
    // the same manifest with the right type is fine
    const ok = await fetch(`${url}/v2/${name}/manifests/good`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body: new Uint8Array(good) });
    assert.equal(ok.status, 201, await ok.text());
  });
});

test("a manifest over 4 MiB gets 413 (with Content-Length and chunked); 4 MiB - 10 bytes is accepted", async () => {
  await withRegistry(async ({ url }) => {
    const name = "big/manifest";
    const configBytes = Buffer.from("{}");
    const config = { digest: await pushBlob(url, name, configBytes), size: configBytes.length };
    const sized = (total: number): Buffer => {
      const base = ociManifest(config, [], { annotations: { pad: "" } }).length;
      const m = ociManifest(config, [], { annotations: { pad: "x".repeat(total - base) } });
      assert.equal(m.length, total);
      return m;
    };
    const limit = 4 * MiB;
    const over = sized(limit + 1);
    const headers = { "Content-Type": MediaType.ociManifest };

    const withLength = await rawRequest(url, { method: "PUT", path: `/v2/${name}/manifests/over`, headers, body: over });
    assertOciError(withLength, 413, ["MANIFEST_INVALID", "SIZE_INVALID"], "PUT 4 MiB + 1 with Content-Length");

    await assertServerUp(url, "an oversized manifest with Content-Length");

    const under = sized(limit - 10);
    const ok = await fetch(`${url}/v2/${name}/manifests/under`, { method: "PUT", headers, body: new Uint8Array(under) });
    assert.equal(ok.status, 201, await ok.text());
    const got = await fetch(`${url}/v2/${name}/manifests/under`);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("docker-content-digest"), digestOf(under));
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(under), "the exact bytes come back");

    const chunks: Buffer[] = [];
    for (let i = 0; i < over.length; i += 256 * 1024) chunks.push(over.subarray(i, i + 256 * 1024));
    const chunked = await rawRequest(url, { method: "PUT", path: `/v2/${name}/manifests/over`, headers, body: chunks });
    assertOciError(chunked, 413, ["MANIFEST_INVALID", "SIZE_INVALID"], "PUT 4 MiB + 1 chunked");
    await assertServerUp(url, "a chunked oversized manifest");

    const missing = await fetch(`${url}/v2/${name}/manifests/over`);
    await missing.arrayBuffer();
    assert.equal(missing.status, 404, "an oversized manifest is not stored");
  });
});

test("a PATCH cut short (Content-Length 1000, 500 bytes, close) keeps nothing of the chunk; the upload completes", async () => {
  await withRegistry(async ({ url }) => {
    const name = "short/patch";
    const data = randomBytes(2000);
    const loc = await startUpload(url, name);
    const first = await patchChunk(loc, data.subarray(0, 300), 0);
    assert.equal(first.status, 202);
    assert.equal(first.headers.get("range"), "0-299");

    const u = new URL(loc);
    await new Promise<void>((resolve, reject) => {
      const sock = connect(Number(u.port), u.hostname, () => {
        sock.write(
          `PATCH ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/octet-stream\r\n` +
            `Content-Range: 300-1299\r\nContent-Length: 1000\r\n\r\n`,
        );
        sock.write(data.subarray(300, 800), () => setTimeout(() => sock.end(), 50));
      });
      sock.on("data", () => undefined);
      sock.on("error", () => undefined);
      sock.on("close", () => resolve());
      sock.setTimeout(5000, () => reject(new Error("socket did not close")));
    });

    await eventually(async () => assert.equal(await uploadedBytes(loc), 300, "Range still ends at the last acknowledged byte"));
    await assertBlobAbsent(url, name, digestOf(data));
    await finishUpload(loc, data, 300);
    await assertBlobServed(url, name, data);
  });
});

test("a chunk whose Content-Range disagrees with its length gets 400 SIZE_INVALID; the upload is unchanged", async () => {
  await withRegistry(async ({ url }) => {
    const name = "size/mismatch";
    const data = randomBytes(1000);
    const loc = await startUpload(url, name);
    assert.equal((await patchChunk(loc, data.subarray(0, 300), 0)).status, 202);

    // Content-Length (50) disagrees with Content-Range (100 bytes)
    const short = await fetch(loc, {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream", "Content-Range": "300-399" },
      body: new Uint8Array(data.subarray(300, 350)),
    });
    assert.equal(short.status, 400);
    assert.equal(await errorCode(short), "SIZE_INVALID");
    assert.equal(await uploadedBytes(loc), 300);
    await finishUpload(loc, data, 300);
    await assertBlobServed(url, name, data);

    // chunked bodies, shorter and longer than the Content-Range
    const other = randomBytes(1000);
    const loc2 = await startUpload(url, name);
    assert.equal((await patchChunk(loc2, other.subarray(0, 300), 0)).status, 202);
    const u = new URL(loc2);
    for (const body of [data.subarray(300, 350), data.subarray(300, 450)]) {
      const res = await rawRequest(url, {
        method: "PATCH",
        path: u.pathname + u.search,
        headers: { "Content-Type": "application/octet-stream", "Content-Range": "300-399" },
        body: [body.subarray(0, 20), body.subarray(20)],
      });
      assertOciError(res, 400, ["SIZE_INVALID"], `chunked PATCH of ${body.length} bytes for Content-Range 300-399`);
      await assertServerUp(url, `a chunked PATCH of ${body.length} bytes for Content-Range 300-399`);
      await eventually(async () => assert.equal(await uploadedBytes(loc2), 300));
    }
    await finishUpload(loc2, other, 300);
    await assertBlobServed(url, name, other);
  });
});

test("an out-of-order chunk gets 416 with the current Range; the upload stays usable", async () => {
  await withRegistry(async ({ url }) => {
    const name = "out/of-order";
    const data = randomBytes(1000);
    const loc = await startUpload(url, name);
    assert.equal((await patchChunk(loc, data.subarray(0, 300), 0)).status, 202);
    for (const start of [500, 0, 299, 301]) {
      const res = await patchChunk(loc, data.subarray(start, start + 100), start);
      await res.arrayBuffer();
      assert.equal(res.status, 416, `chunk at ${start}`);
      assert.equal(res.headers.get("range"), "0-299", `416 for chunk at ${start} tells where the upload ends`);
    }
    const status = await fetch(loc);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get("range"), "0-299");
    assert.ok(status.headers.get("location"), "GET <location> carries Location");
    await finishUpload(loc, data, 300);
    await assertBlobServed(url, name, data);
  });
});

test("closing an upload with the wrong digest gets 400 DIGEST_INVALID and serves no blob", async () => {
  await withRegistry(async ({ url, root }) => {
    const name = "wrong/digest";
    const data = randomBytes(4096);
    const claimed = digestOf("something else");
    const loc = await startUpload(url, name);
    assert.equal((await patchChunk(loc, data, 0)).status, 202);
    const put = await fetch(withQuery(loc, "digest", claimed), { method: "PUT" });
    assert.equal(put.status, 400);
    assert.equal(await errorCode(put), "DIGEST_INVALID");

    const mono = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${claimed}`, { method: "POST", body: new Uint8Array(data) });
    assert.equal(mono.status, 400);
    assert.equal(await errorCode(mono), "DIGEST_INVALID");

    const withBody = await fetch(withQuery(await startUpload(url, name), "digest", claimed), { method: "PUT", body: new Uint8Array(data) });
    assert.equal(withBody.status, 400);
    assert.equal(await errorCode(withBody), "DIGEST_INVALID");

    await assertBlobAbsent(url, name, claimed);
    await assertBlobAbsent(url, name, digestOf(data));
    const files = (await walkTree(join(root, "blobs"))).filter((p) => !p.endsWith("/"));
    assert.deepEqual(files, [], "no blob file under either digest");
  });
});

/** Starts a child node process streaming a PATCH of `total` bytes from `file` to `loc`; resolves once `stopAfter` bytes are written. */
async function spawnStreamingClient(loc: string, file: string, offset: number, total: number, stopAfter: number) {
  const script = `
    const http = require("node:http"), fs = require("node:fs");
    const [loc, file, offset, total, stopAfter] = process.argv.slice(1);
    const data = fs.readFileSync(file).subarray(Number(offset), Number(offset) + Number(total));
    const req = http.request(loc, { method: "PATCH", headers: { "Content-Type": "application/octet-stream", "Content-Length": total } });
    req.on("error", (e) => { process.stderr.write(String(e)); });
    (async () => {
      let sent = 0;
      while (sent < Number(stopAfter)) {
        const chunk = data.subarray(sent, Math.min(sent + 256 * 1024, Number(stopAfter)));
        if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
        sent += chunk.length;
      }
      process.stdout.write("sent " + sent + "\\n");
      setInterval(() => {}, 1000);
    })();
  `;
  const child = spawn(process.execPath, ["-e", script, loc, file, String(offset), String(total), String(stopAfter)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      out += s;
      if (out.includes("sent ")) resolve();
    });
    void exited.then(() => reject(new Error(`client exited early: ${err}`)));
  });
  return {
    kill: async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Waits until a file has grown past `floor` and then reaches `atLeast` bytes or stops growing (up to 5 s); returns its size. */
async function waitForFileSize(path: string, floor: number, atLeast: number): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100; i++) {
    const size = (await stat(path).catch(() => ({ size: 0 }))).size;
    if (size >= atLeast || (size === last && size > floor)) return size;
    last = size;
    await new Promise((r) => setTimeout(r, 50));
  }
  return last;
}

for (const ending of ["completed", "cancelled"] as const) {
  test(`a client SIGKILLed mid-PATCH leaves a consistent upload that can be ${ending}`, async () => {
    await withRegistry(async ({ url, root }, parent) => {
      const name = "killed/client";
      const first = MiB;
      const streamed = 20 * MiB;
      const data = randomBytes(first + streamed);
      const file = join(parent, "blob.bin");
      await writeFile(file, data);
      const loc = await startUpload(url, name);
      const uuid = new URL(loc).pathname.split("/").pop() ?? "";
      assert.equal((await patchChunk(loc, data.subarray(0, first), 0)).status, 202);

      const client = await spawnStreamingClient(loc, file, first, streamed, 5 * MiB);
      try {
        await waitForFileSize(join(root, "uploads", uuid, "data"), first, first + 4 * MiB);
      } finally {
        await client.kill();
      }

      const held = await eventually(async () => {
        const n = await uploadedBytes(loc);
        assert.ok(n >= first && n <= first + 5 * MiB, `upload holds ${n} bytes: at least the acknowledged ${first}, at most what was sent`);
        return n;
      });
      await assertBlobAbsent(url, name, digestOf(data));
      if (ending === "completed") {
        await finishUpload(loc, data, held);
        await assertBlobServed(url, name, data);
        assert.deepEqual(await readdir(join(root, "uploads")), [], "the finished upload leaves nothing behind");
      } else {
        await eventually(async () => {
          const del = await fetch(loc, { method: "DELETE" });
          await del.arrayBuffer();
          assert.equal(del.status, 204);
        });
        const gone = await fetch(loc);
        assert.equal(gone.status, 404);
        assert.equal(await errorCode(gone), "BLOB_UPLOAD_UNKNOWN");
        assert.deepEqual(await readdir(join(root, "uploads")), [], "cancel frees the upload's storage");
        await assertBlobAbsent(url, name, digestOf(data));
      }
    });
  });
}

test("a server SIGKILLed mid-upload restarts with the upload resumable and acknowledged manifests intact", async () => {
  const parent = await makeTempDir("killed-server");
  const root = join(parent, "store");
  const procs: RegistryProcess[] = [];
  try {
    let server = await startRegistryProcess(root);
    procs.push(server);
    const name = "killed/server";
    const image = await pushImage(server.url, name, "v1", ["layer a", "layer b"]);

    const first = MiB;
    const streamed = 20 * MiB;
    const data = randomBytes(first + streamed);
    const loc = new URL(await startUpload(server.url, name));
    const path = loc.pathname + loc.search;
    const uuid = loc.pathname.split("/").pop() ?? "";
    assert.equal((await patchChunk(loc.href, data.subarray(0, first), 0)).status, 202);

    // Stream a big PATCH, and kill the server once part of it is on disk.
    const sentLimit = 6 * MiB;
    const req = httpRequest(loc.href, { method: "PATCH", headers: { "Content-Type": "application/octet-stream", "Content-Length": streamed } });
    const failed = new Promise<void>((resolve) => {
      req.on("error", () => resolve());
      req.on("response", (res) => {
        res.resume();
        resolve();
      });
    });
    let sent = 0;
    while (sent < sentLimit) {
      const chunk = data.subarray(first + sent, first + sent + 256 * 1024);
      if (!req.write(chunk)) await new Promise<void>((r) => req.once("drain", () => r()));
      sent += chunk.length;
    }
    const onDisk = await waitForFileSize(join(root, "uploads", uuid, "data"), first, first + 3 * MiB);
    assert.ok(onDisk > first, `part of the streamed chunk reached the disk before the kill (${onDisk} bytes)`);
    await server.kill("SIGKILL");
    await failed;
    req.destroy();

    server = await startRegistryProcess(root);
    procs.push(server);
    const base = server.url;
    const abs = new URL(path, base).href;

    const manifest = await fetch(`${base}/v2/${name}/manifests/v1`);
    assert.equal(manifest.status, 200, "a manifest acknowledged with 201 survives the kill");
    assert.ok(Buffer.from(await manifest.arrayBuffer()).equals(image.manifest));
    for (const d of [image.config, ...image.layers]) {
      const b = await fetch(`${base}/v2/${name}/blobs/${d}`, { method: "HEAD" });
      assert.equal(b.status, 200, `blob ${d} of the acknowledged image survives`);
    }

    await assertBlobAbsent(base, name, digestOf(data));
    const held = await uploadedBytes(abs);
    assert.ok(held >= first && held <= first + sent, `restarted server holds ${held} bytes: >= ${first}, <= ${first + sent}`);
    await finishUpload(abs, data, held);
    await assertBlobServed(base, name, data);
  } finally {
    for (const p of procs) await p.kill("SIGKILL");
    await removeDir(parent);
  }
});

test("the same blob pushed by 8 clients at once: all 201, one blob file, served correctly", async () => {
  await withRegistry(async ({ url, root }) => {
    const name = "many/clients";
    const data = randomBytes(2 * MiB);
    const digest = digestOf(data);
    const push = async (): Promise<number> => {
      const loc = await startUpload(url, name);
      const patch = await patchChunk(loc, data, 0);
      await patch.arrayBuffer();
      assert.equal(patch.status, 202);
      const put = await fetch(withQuery(loc, "digest", digest), { method: "PUT" });
      await put.arrayBuffer();
      return put.status;
    };
    const statuses = await Promise.all(Array.from({ length: 8 }, push));
    assert.deepEqual(statuses, Array(8).fill(201));
    const monolithic = await Promise.all(Array.from({ length: 8 }, async () => pushBlob(url, name, data)));
    assert.deepEqual(monolithic, Array(8).fill(digest));

    const files = (await walkTree(join(root, "blobs"))).filter((p) => !p.endsWith("/"));
    assert.deepEqual(files, [`sha256/${digest.slice(7, 9)}/${digest.slice(7)}`], "one blob file, no temp files");
    assert.deepEqual(await readdir(join(root, "uploads")), [], "no upload left behind");
    await assertBlobServed(url, name, data);
  });
});
