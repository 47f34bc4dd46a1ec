import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { isFailedPrecondition } from "../../../src/errdefs/index.js";
import { Digester, digestOf } from "../../../src/oci/index.js";
import { RegistryClient } from "../../../src/registry/client/index.js";
import { collect, rawServer } from "./fixtures.js";

const REPO = "library/blob";

test("a blob whose bytes do not match its digest errors the stream and yields nothing", async () => {
  const good = Buffer.from("the real layer");
  const evil = Buffer.from("a forged layer");
  const srv = await rawServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": evil.length });
    res.end(evil);
  });
  try {
    const client = new RegistryClient({ baseUrl: srv.url, maxAttempts: 1 });
    const stream = await client.fetchBlob(REPO, digestOf(good));
    let delivered = 0;
    stream.on("data", (c: Buffer) => (delivered += c.length));
    await assert.rejects(collect(stream), (e: Error) =>
      isFailedPrecondition(e) && e.message.startsWith("digest mismatch:") && e.message.includes(digestOf(good)) && e.message.includes(srv.host));
    assert.equal(delivered, 0);
  } finally {
    await srv.close();
  }
});

test("a blob longer than its descriptor says is cut off with a size mismatch", async () => {
  const blob = randomBytes(4096);
  const srv = await rawServer((_req, res) => {
    res.writeHead(200, { "Content-Length": blob.length });
    res.end(blob);
  });
  try {
    const client = new RegistryClient({ baseUrl: srv.url, maxAttempts: 1 });
    await assert.rejects(collect(await client.fetchBlob(REPO, digestOf(blob), { size: 100 })), (e: Error) =>
      isFailedPrecondition(e) && e.message.startsWith("size mismatch:"));
  } finally {
    await srv.close();
  }
});

/** Serves `blob` and honours Range, but cuts the first response after `cutAt` bytes (when given). */
async function flakyServer(blob: Buffer, cutAt: number | undefined, opts: { ignoreRange?: boolean } = {}) {
  const ranges: (string | undefined)[] = [];
  const srv = await rawServer((req, res) => {
    ranges.push(req.headers.range);
    if (ranges.length === 1 && cutAt !== undefined) {
      res.writeHead(200, { "Content-Length": blob.length, "Accept-Ranges": "bytes" });
      res.write(blob.subarray(0, cutAt), () => res.socket?.destroy());
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (!m || opts.ignoreRange) {
      res.writeHead(200, { "Content-Length": blob.length });
      res.end(blob);
      return;
    }
    const start = Number(m[1]);
    res.writeHead(206, { "Content-Length": blob.length - start, "Content-Range": `bytes ${start}-${blob.length - 1}/${blob.length}` });
    res.end(blob.subarray(start));
  });
  return { srv, ranges };
}

test("a download cut mid-blob resumes with Range and verifies the whole blob", async () => {
  const blob = randomBytes(512 * 1024);
  const { srv, ranges } = await flakyServer(blob, 200 * 1024);
  try {
    const client = new RegistryClient({ baseUrl: srv.url, backoff: { initialMs: 1 } });
    const got = await collect(await client.fetchBlob(REPO, digestOf(blob), { size: blob.length }));
    assert.ok(got.equals(blob));
    assert.equal(ranges.length, 2);
    assert.equal(ranges[0], undefined);
    assert.match(ranges[1] ?? "", /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(ranges[1] ?? "")?.[0]) > 0, "resumed past 0");
  } finally {
    await srv.close();
  }
});

test("a server that answers a resumed request with 200 is read from the start, skipping what we have", async () => {
  const blob = randomBytes(256 * 1024);
  const { srv, ranges } = await flakyServer(blob, 100 * 1024, { ignoreRange: true });
  try {
    const client = new RegistryClient({ baseUrl: srv.url, backoff: { initialMs: 1 } });
    const got = await collect(await client.fetchBlob(REPO, digestOf(blob)));
    assert.ok(got.equals(blob));
    assert.equal(ranges.length, 2);
  } finally {
    await srv.close();
  }
});

test("fetchBlob from an offset, with a digester of the first bytes, still checks the digest", async () => {
  const blob = randomBytes(10_000);
  const { srv, ranges } = await flakyServer(blob, undefined);
  try {
    const client = new RegistryClient({ baseUrl: srv.url, backoff: { initialMs: 1 } });
    const prefix = new Digester();
    prefix.update(blob.subarray(0, 4000));
    const rest = await collect(await client.fetchBlob(REPO, digestOf(blob), { offset: 4000, digester: prefix, size: blob.length }));
    assert.ok(rest.equals(blob.subarray(4000)));
    assert.deepEqual(ranges, ["bytes=4000-"]);

    const wrong = new Digester();
    wrong.update(Buffer.alloc(4000));
    await assert.rejects(collect(await client.fetchBlob(REPO, digestOf(blob), { offset: 4000, digester: wrong })), (e: Error) =>
      isFailedPrecondition(e) && e.message.startsWith("digest mismatch"));
  } finally {
    await srv.close();
  }
});
