/**
 * The registry's connections, as `podyard registry serve` sets them up: a client
 * that stalls mid-request is cut off after --read-timeout and its partial upload is
 * not kept; a slow upload that keeps sending is not cut off, nor a pull-through
 * download from a slow upstream; a kept-alive connection is closed after
 * --idle-timeout; a client that half-closes after its request still gets the answer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { stat } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { digestOf } from "../../../src/oci/index.js";
import { createPullThroughServer } from "../../../src/registry/server/index.js";
import { makeTempDir, removeDir, runPodyard, startRegistryProcess, walkTree, type RegistryProcess } from "../../helpers/registry-process.js";
import { rawServer, startRegistry } from "../client/fixtures.js";

/** A bound for waits on the server: far above the timeouts under test, only so a broken server fails instead of hanging. */
const GUARD_MS = 20_000;

async function withServer(extra: string[], fn: (proc: RegistryProcess, root: string) => Promise<void>): Promise<void> {
  const root = await makeTempDir("connections");
  const proc = await startRegistryProcess(root, extra);
  try {
    await fn(proc, root);
  } finally {
    await proc.kill();
    await removeDir(root);
  }
}

interface RawConnection {
  socket: Socket;
  /** everything the server sent, once it has closed the connection */
  closed: Promise<string>;
}

/** A TCP connection to the server whose URL is `url`, collecting what the server sends. */
async function open(url: string): Promise<RawConnection> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  let received = "";
  socket.setEncoding("utf8").on("data", (s: string) => (received += s));
  socket.on("error", () => undefined);
  const closed = new Promise<string>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`the server did not close the connection; got ${JSON.stringify(received)}`)), GUARD_MS);
    socket.once("close", () => {
      clearTimeout(guard);
      resolve(received);
    });
  });
  return { socket, closed };
}

function head(method: string, url: string, headers: Record<string, string | number> = {}): string {
  const u = new URL(url);
  const lines = Object.entries({ Host: u.host, ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${u.pathname}${u.search} HTTP/1.1\r\n${lines.join("")}\r\n`;
}

async function startUpload(url: string, name: string): Promise<string> {
  const res = await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: "POST" });
  assert.equal(res.status, 202, await res.text());
  return new URL(res.headers.get("location") ?? "", url).href;
}

async function status(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

test("a PUT that stalls after 5 of 100 bytes is cut off after --read-timeout; nothing of it is kept or served", async () => {
  await withServer(["--read-timeout", "500ms"], async (proc, root) => {
    const data = randomBytes(100);
    const digest = digestOf(data);
    const loc = await startUpload(proc.url, "stall/put");
    const put = new URL(loc);
    put.searchParams.set("digest", digest);

    const conn = await open(proc.url);
    conn.socket.write(head("PUT", put.href, { "Content-Type": "application/octet-stream", "Content-Length": 100 }));
    conn.socket.write(data.subarray(0, 5));
    assert.equal(await conn.closed, "", "the server closes the stalled connection without an answer");

    // the blob was never committed; the upload is still there with none of the 5 bytes
    assert.equal(await status(`${proc.url}/v2/stall/put/blobs/${digest}`), 404);
    assert.deepEqual((await walkTree(root)).filter((p) => p.startsWith("blobs/") && !p.endsWith("/")), []);
    const uuid = put.pathname.split("/").pop() ?? "";
    assert.equal((await stat(join(root, "uploads", uuid, "data"))).size, 0);
    // and it completes when the client sends the whole blob again
    assert.equal(await status(put.href, { method: "PUT", body: new Uint8Array(data) }), 201);
    assert.equal(await status(`${proc.url}/v2/stall/put/blobs/${digest}`), 200);

    // a monolithic POST that stalls leaves nothing either
    const conn2 = await open(proc.url);
    conn2.socket.write(head("POST", `${proc.url}/v2/stall/post/blobs/uploads/?digest=${digest}`, { "Content-Length": 100 }));
    conn2.socket.write(data.subarray(0, 5));
    assert.equal(await conn2.closed, "");
    assert.equal(await status(`${proc.url}/v2/stall/post/blobs/${digest}`), 404);
  });
});

test("a slow upload that keeps sending outlasts --read-timeout and is committed", async () => {
  await withServer(["--read-timeout", "1s"], async (proc) => {
    const chunks = Array.from({ length: 12 }, () => randomBytes(64));
    const data = Buffer.concat(chunks);
    const digest = digestOf(data);
    const conn = await open(proc.url);
    conn.socket.write(head("POST", `${proc.url}/v2/slow/app/blobs/uploads/?digest=${digest}`, { "Content-Length": data.length, Connection: "close" }));
    // 12 chunks 150 ms apart: longer than the read timeout in all, never silent that long
    for (const c of chunks) {
      await new Promise((r) => setTimeout(r, 150));
      conn.socket.write(c);
    }
    assert.match(await conn.closed, /^HTTP\/1\.1 201 /);
    const blob = await fetch(`${proc.url}/v2/slow/app/blobs/${digest}`);
    assert.equal(blob.status, 200);
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(data));
  });
});

test("a pull through a slow upstream is not cut off by the read timeout while the cache downloads", async () => {
  const layer = Buffer.from("a layer from a slow upstream");
  const digest = digestOf(layer);
  const upstream = await rawServer((req, res) => {
    // the upstream takes several read timeouts before it answers
    setTimeout(() => {
      res.writeHead(200, { "Content-Length": layer.length, "Docker-Content-Digest": digest });
      res.end(req.method === "HEAD" ? undefined : layer);
    }, 1200);
  });
  const proxy = await startRegistry({ readTimeoutMs: 200 }, (o) => createPullThroughServer({ ...o, remoteUrl: upstream.url, maxAttempts: 1 }));
  try {
    const res = await fetch(`${proxy.url}/v2/slow/upstream/blobs/${digest}`);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(layer));
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test("a kept-alive connection is closed after --idle-timeout; one that never sends a request after --read-timeout", async () => {
  await withServer(["--read-timeout", "300ms", "--idle-timeout", "300ms"], async (proc) => {
    const idle = await open(proc.url);
    idle.socket.write(head("GET", `${proc.url}/v2/`));
    assert.match(await idle.closed, /^HTTP\/1\.1 200 [^]*\r\n\r\n\{\}$/);

    const silent = await open(proc.url);
    assert.equal(await silent.closed, "");
  });
});

test("a client that half-closes right after its request gets the answer", async () => {
  await withServer([], async (proc) => {
    const data = Buffer.from("half-closed layer");
    const digest = digestOf(data);
    const push = await fetch(`${proc.url}/v2/half/app/blobs/uploads/?digest=${digest}`, { method: "POST", body: new Uint8Array(data) });
    assert.equal(push.status, 201);

    const base = await open(proc.url);
    base.socket.end(head("GET", `${proc.url}/v2/`));
    assert.match(await base.closed, /^HTTP\/1\.1 200 OK\r\n/);

    const blob = await open(proc.url);
    blob.socket.end(head("GET", `${proc.url}/v2/half/app/blobs/${digest}`));
    const answer = await blob.closed;
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.ok(answer.endsWith("\r\n\r\nhalf-closed layer"), answer);

    const missing = await open(proc.url);
    missing.socket.end(head("GET", `${proc.url}/v2/half/app/manifests/nope`));
    assert.match(await missing.closed, /^HTTP\/1\.1 404 Not Found\r\n[^]*MANIFEST_UNKNOWN/);
  });
});

test("serve --help shows the timeouts as users type them", async () => {
  const res = await runPodyard(["registry", "serve", "--help"]);
  assert.equal(res.code, 0);
  const help = res.stdout.replace(/\s+/g, " ");
  assert.match(help, /--read-timeout <duration> .*\(default: 60s\)/);
  assert.match(help, /--idle-timeout <duration> .*\(default: 30s\)/);
  const bad = await runPodyard(["registry", "serve", "--root", "/nonexistent", "--read-timeout", "soon"]);
  assert.equal(bad.code, 2, "the usage exit code");
  assert.match(bad.stderr, /option '--read-timeout <duration>' argument 'soon' is invalid/);
});
