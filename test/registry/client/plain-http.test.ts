/**
 * plainHttpFetch against real servers: node:http for well-behaved ones and raw node:net
 * servers that send exact bytes (chunk extensions and trailers, interim responses,
 * malformed or oversized heads, bodies cut short, silence).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import net, { type AddressInfo } from "node:net";
import { setImmediate as tick, setTimeout as delay } from "node:timers/promises";
import { plainHttpFetch } from "../../../src/registry/client/plain-http.js";
import { LEND_MIN_BYTES, recycleChunk } from "../../../src/registry/client/read-buffers.js";
import type { FetchLike } from "../../../src/registry/client/types.js";

interface Server {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1. */
async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Server> {
  const server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** One connection to a raw server: the request head as received, and the socket to answer on. */
interface RawExchange {
  socket: net.Socket;
  request: Promise<string>;
  closed: Promise<void>;
}

/** A node:net server on 127.0.0.1 that hands each connection to `onConnection`. */
async function tcpServer(onConnection: (x: RawExchange) => void | Promise<void>): Promise<Server & { connections: () => number }> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on("error", () => undefined); // a client that hangs up is part of several tests
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    void closed.then(() => sockets.delete(socket));
    const request = new Promise<string>((resolve) => {
      let text = "";
      const onData = (b: Buffer): void => {
        text += b.toString("latin1");
        const at = text.indexOf("\r\n\r\n");
        if (at >= 0) {
          socket.off("data", onData);
          socket.resume(); // keep draining whatever else comes
          resolve(text.slice(0, at));
        }
      };
      socket.on("data", onData);
    });
    void Promise.resolve(onConnection({ socket, request, closed })).catch((err: unknown) => {
      socket.destroy(err instanceof Error ? err : new Error(String(err)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** A raw server that, once the request head is in, writes `pieces` one by one and then closes or stays open. */
function rawResponder(pieces: (string | Buffer)[], after: "close" | "stay-open" = "close") {
  return tcpServer(async ({ socket, request }) => {
    await request;
    for (const p of pieces) {
      socket.write(typeof p === "string" ? Buffer.from(p, "latin1") : p);
      await tick(); // give each piece a chance to arrive in a read of its own
    }
    if (after === "close") socket.end();
  });
}

async function readAll(body: ReadableStream<Uint8Array> | null): Promise<Buffer> {
  assert.ok(body, "a body");
  const reader = body.getReader();
  const chunks: Buffer[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    chunks.push(Buffer.from(value));
  }
}

/** Asserts `err` is the TypeError fetch uses, with `message` and a cause carrying `code` (or a cause matching `causeMessage`). */
function fetchError(message: "fetch failed" | "terminated", cause: { code?: string; message?: RegExp }) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof TypeError, `a TypeError, got ${String(err)}`);
    assert.equal(err.message, message);
    const c = err.cause as { code?: unknown; message?: unknown } | undefined;
    assert.ok(c, "a cause");
    if (cause.code !== undefined) assert.equal(c.code, cause.code);
    if (cause.message !== undefined) assert.match(String(c.message), cause.message);
    return true;
  };
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function recordingFallback() {
  const calls: { input: string | URL; init: RequestInit | undefined }[] = [];
  const fetchLike: FetchLike = (input, init) => {
    calls.push({ input, init });
    return Promise.resolve(new Response("from the fallback", { status: 299 }));
  };
  return { calls, fetchLike };
}

function noFallback(): FetchLike {
  return () => Promise.reject(new Error("the fallback must not be called"));
}

// ---- well-behaved servers -------------------------------------------------------------

test("a GET reports the server's status, reason, headers and body, and res.url is the URL requested", async () => {
  let seen: { method?: string; url?: string; headers?: IncomingHttpHeaders } = {};
  const srv = await httpServer((req, res) => {
    seen = { method: req.method, url: req.url, headers: req.headers };
    res.writeHead(203, "Quite Fine Indeed", { "Content-Type": "application/vnd.test+json", "Docker-Content-Digest": "sha256:abc", ETag: '"x1"' });
    res.end('{"ok":true}');
  });
  try {
    const url = `${srv.url}/v2/library/busybox/blobs/sha256:abc?ns=docker.io&n=1`;
    const res = await plainHttpFetch({ fallback: noFallback() })(url, {
      headers: { Authorization: "Bearer tok.en.value", Range: "bytes=10-", Accept: "application/vnd.oci.image.manifest.v1+json, */*;q=0.5", "X-Extra": "yes" },
    });
    assert.equal(res.status, 203);
    assert.equal(res.statusText, "Quite Fine Indeed");
    assert.equal(res.ok, true);
    assert.equal(res.url, url);
    assert.equal(res.headers.get("content-type"), "application/vnd.test+json");
    assert.equal(res.headers.get("docker-content-digest"), "sha256:abc");
    assert.equal(res.headers.get("etag"), '"x1"');
    assert.deepEqual(await res.json(), { ok: true });

    assert.equal(seen.method, "GET");
    assert.equal(seen.url, "/v2/library/busybox/blobs/sha256:abc?ns=docker.io&n=1");
    assert.equal(seen.headers?.host, srv.host);
    assert.equal(seen.headers?.authorization, "Bearer tok.en.value");
    assert.equal(seen.headers?.range, "bytes=10-");
    assert.equal(seen.headers?.accept, "application/vnd.oci.image.manifest.v1+json, */*;q=0.5");
    assert.equal(seen.headers?.["x-extra"], "yes");
    assert.equal(seen.headers?.connection, "close");
  } finally {
    await srv.close();
  }
});

test("a URL object, a lower-case method and a Headers instance are accepted; a caller's Host and Connection do not override the real ones", async () => {
  let seen: { method?: string; headers?: IncomingHttpHeaders } = {};
  const srv = await httpServer((req, res) => {
    seen = { method: req.method, headers: req.headers };
    res.end("hi");
  });
  try {
    const url = new URL(`${srv.url}/v2/`);
    const res = await plainHttpFetch({ fallback: noFallback() })(url, {
      method: "get",
      headers: new Headers([["Accept", "a/b"], ["Host", "evil.example"], ["Connection", "keep-alive"]]),
    });
    assert.equal(res.url, url.href);
    assert.equal(await res.text(), "hi");
    assert.equal(seen.method, "GET");
    assert.equal(seen.headers?.host, srv.host);
    assert.equal(seen.headers?.connection, "close");
    assert.equal(seen.headers?.accept, "a/b");
  } finally {
    await srv.close();
  }
});

test("a 404 with a body is returned, not thrown; a status line without a reason gives an empty statusText", async () => {
  const srv = await httpServer((_req, res) => {
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
  });
  const bare = await rawResponder(["HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok"]);
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    const res = await f(`${srv.url}/v2/x/blobs/sha256:00`);
    assert.equal(res.status, 404);
    assert.equal(res.statusText, "Not Found");
    assert.equal(res.ok, false);
    assert.deepEqual(await res.json(), { errors: [{ code: "BLOB_UNKNOWN" }] });

    const res2 = await f(`${bare.url}/`);
    assert.equal(res2.status, 200);
    assert.equal(res2.statusText, "");
    assert.equal(await res2.text(), "ok");
  } finally {
    await srv.close();
    await bare.close();
  }
});

test("HEAD gets the headers and no body, and does not wait for one", async () => {
  let method: string | undefined;
  const srv = await httpServer((req, res) => {
    method = req.method;
    res.writeHead(200, { "Content-Length": "1234", "Docker-Content-Digest": "sha256:feed" });
    res.end();
  });
  // A raw server that announces 5000 bytes for a HEAD and then keeps the connection open.
  const raw = await rawResponder(["HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n"], "stay-open");
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    const res = await f(`${srv.url}/v2/x/blobs/sha256:feed`, { method: "HEAD" });
    assert.equal(method, "HEAD");
    assert.equal(res.status, 200);
    assert.equal(res.body, null);
    assert.equal(res.headers.get("content-length"), "1234");
    assert.equal(res.headers.get("docker-content-digest"), "sha256:feed");
    assert.equal(await res.text(), "");

    const res2 = await f(`${raw.url}/`, { method: "HEAD" });
    assert.equal(res2.body, null);
    assert.equal(res2.headers.get("content-length"), "5000");
    assert.equal(await res2.text(), "");
  } finally {
    await srv.close();
    await raw.close();
  }
});

test("204 and 304 have no body, even with a Content-Length and a connection left open", async () => {
  const noContent = await rawResponder(["HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"], "stay-open");
  const notModified = await rawResponder(['HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nContent-Length: 500\r\n\r\n'], "stay-open");
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    const r204 = await f(`${noContent.url}/`);
    assert.equal(r204.status, 204);
    assert.equal(r204.statusText, "No Content");
    assert.equal(r204.headers.get("x-a"), "1");
    assert.equal(r204.body, null);
    assert.equal(await r204.text(), "");

    const r304 = await f(`${notModified.url}/`);
    assert.equal(r304.status, 304);
    assert.equal(r304.headers.get("etag"), '"v1"');
    assert.equal(r304.body, null);
    assert.equal(await r304.text(), "");
  } finally {
    await noContent.close();
    await notModified.close();
  }
});

test("Content-Length: 0 gives an empty body without waiting for the connection to close", async () => {
  const srv = await rawResponder(["HTTP/1.1 201 Created\r\nLocation: /v2/x/blobs/sha256:1\r\nContent-Length: 0\r\n\r\n"], "stay-open");
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("location"), "/v2/x/blobs/sha256:1");
    assert.equal(await res.text(), "");
  } finally {
    await srv.close();
  }
});

// ---- framing -----------------------------------------------------------------------------

test("a Content-Length body ends after that many bytes, though the server keeps the connection open and sends more", async () => {
  const srv = await rawResponder(["HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello", " world", "GARBAGE AFTER THE BODY"], "stay-open");
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal((await readAll(res.body)).toString(), "hello world");
  } finally {
    await srv.close();
  }
});

test("chunked coding with chunk extensions and trailers is decoded, pieces split at awkward places", async () => {
  const srv = await rawResponder(
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Before: 1\r\n\r\n",
      "5;name=value;other\r\nhel",
      "lo\r",
      "\n",
      "1", // the size line split in two
      "0;quoted=\"a;b\";flag\r\n",
      "0123456789abcdef\r\n",
      "a\r\n0123456789\r\n",
      "0;last\r\nX-Trailer: yes\r\nX-Checksum: ", // trailers split
      "abc\r\n\r\n",
    ],
    "stay-open", // the terminating chunk ends the body, not the connection
  );
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal(res.headers.get("x-before"), "1");
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    assert.equal((await readAll(res.body)).toString(), "hello0123456789abcdef0123456789");
  } finally {
    await srv.close();
  }
});

test("a whole chunked response sent one byte at a time (head included) arrives intact", async () => {
  const body = randomBytes(3000);
  const chunks = [body.subarray(0, 1000), body.subarray(1000, 1001), body.subarray(1001)];
  const wire = Buffer.concat([
    Buffer.from("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/octet-stream\r\n\r\n"),
    ...chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from("\r\n")]),
    Buffer.from("0\r\n\r\n"),
  ]);
  const srv = await tcpServer(async ({ socket, request }) => {
    await request;
    for (let i = 0; i < wire.length; i++) {
      socket.write(wire.subarray(i, i + 1));
      if (i % 64 === 0) await tick();
    }
  });
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.ok((await readAll(res.body)).equals(body));
  } finally {
    await srv.close();
  }
});

test("node:http's own chunked responses (no Content-Length) are decoded", async () => {
  const parts = [randomBytes(10), randomBytes(70_000), randomBytes(1), randomBytes(300_000)];
  const srv = await httpServer((_req, res) => {
    res.writeHead(200);
    for (const p of parts) res.write(p);
    res.addTrailers({ "X-Trailer": "t" });
    res.end();
  });
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal(res.headers.get("transfer-encoding"), "chunked");
    assert.ok((await readAll(res.body)).equals(Buffer.concat(parts)));
  } finally {
    await srv.close();
  }
});

test("a body without Content-Length or chunked coding runs until the server closes the connection", async () => {
  const srv = await rawResponder(["HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part, ", "second part, ", "the end"]);
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal(res.status, 200);
    assert.equal((await readAll(res.body)).toString(), "first part, second part, the end");
  } finally {
    await srv.close();
  }
});

test("a close-delimited body cut by a connection reset is an error, not a short body", async () => {
  let reset: () => void = () => undefined;
  const resetNow = new Promise<void>((resolve) => (reset = resolve));
  const srv = await tcpServer(async ({ socket, request }) => {
    await request;
    socket.write("HTTP/1.1 200 OK\r\n\r\nsome bytes");
    await resetNow; // once the client has read those bytes
    socket.resetAndDestroy();
  });
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.ok(res.body);
    const reader = res.body.getReader();
    assert.equal(Buffer.from((await reader.read()).value ?? []).toString(), "some bytes");
    reset();
    await assert.rejects(reader.read(), fetchError("terminated", { code: "ECONNRESET" }));
  } finally {
    await srv.close();
  }
});

test("interim responses (100 Continue, 103 Early Hints) are skipped: the final status and only its headers are reported", async () => {
  const srv = await rawResponder([
    "HTTP/1.1 100 Continue\r\n\r\n",
    "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n",
    "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-Final: yes\r\n\r\nbody",
  ]);
  const together = await rawResponder(["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"]);
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    const res = await f(`${srv.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-final"), "yes");
    assert.equal(res.headers.get("link"), null);
    assert.equal(await res.text(), "body");

    const res2 = await f(`${together.url}/`);
    assert.equal(res2.status, 202);
    assert.equal(await res2.text(), "ok");
  } finally {
    await srv.close();
    await together.close();
  }
});

test("repeated response headers are all kept: combined by get(), separate in getSetCookie()", async () => {
  const srv = await rawResponder(["HTTP/1.1 200 OK\r\nX-Multi: a\r\nSet-Cookie: a=1; Path=/\r\nX-Multi: b\r\nSet-Cookie: b=2\r\nWWW-Authenticate: Bearer realm=\"r\"\r\nContent-Length: 0\r\n\r\n"]);
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal(res.headers.get("x-multi"), "a, b");
    assert.deepEqual(res.headers.getSetCookie(), ["a=1; Path=/", "b=2"]);
    assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="r"');
  } finally {
    await srv.close();
  }
});

test("64 MiB read slowly: nothing is lost, the digest matches, and a reader that stops holds the server back", async () => {
  const TOTAL = 64 << 20;
  const BLOCK = 1 << 20;
  let flushed = 0;
  let serverDigest: Promise<string> | undefined;
  const srv = await httpServer((_req, res) => {
    serverDigest = (async () => {
      const hash = createHash("sha256");
      res.writeHead(200, { "Content-Length": String(TOTAL), "Content-Type": "application/octet-stream" });
      for (let sent = 0; sent < TOTAL; sent += BLOCK) {
        const block = randomBytes(BLOCK);
        hash.update(block);
        const more = res.write(block, () => {
          flushed += BLOCK;
        });
        if (!more) {
          await new Promise<void>((resolve, reject) => {
            const onDrain = (): void => {
              res.off("close", onClose);
              resolve();
            };
            const onClose = (): void => {
              res.off("drain", onDrain);
              reject(new Error("client went away"));
            };
            res.once("drain", onDrain);
            res.once("close", onClose);
          });
        }
      }
      res.end();
      return hash.digest("hex");
    })();
  });
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/blob`);
    assert.equal(res.headers.get("content-length"), String(TOTAL));
    assert.ok(res.body);
    const reader = res.body.getReader();
    const hash = createHash("sha256");
    let read = 0;
    let reads = 0;

    const first = await reader.read();
    assert.ok(!first.done && first.value.length > 0);
    hash.update(first.value);
    read += first.value.length;

    // Stop reading for a while: the socket must be paused, so the server cannot get far ahead.
    await delay(300);
    assert.ok(flushed < TOTAL / 2, `the server flushed ${flushed} bytes while the reader was stopped`);

    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      read += value.length;
      if (++reads % 4 === 0) await delay(1); // a slow consumer
      else await tick();
    }
    assert.equal(read, TOTAL);
    assert.ok(serverDigest);
    assert.equal(hash.digest("hex"), await serverDigest);
  } finally {
    await srv.close();
  }
});

test("a chunked 16 MiB body read slowly arrives whole", async () => {
  const body = randomBytes(16 << 20);
  const srv = await httpServer((_req, res) => {
    res.writeHead(200);
    // uneven pieces, so chunk boundaries fall anywhere in the client's reads
    let at = 0;
    let i = 0;
    const pump = (): void => {
      while (at < body.length) {
        const n = Math.min(body.length - at, 1000 + ((i++ * 7919) % 300_000));
        const ok = res.write(body.subarray(at, at + n));
        at += n;
        if (!ok) {
          res.once("drain", pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.ok(res.body);
    const reader = res.body.getReader();
    const hash = createHash("sha256");
    let n = 0;
    for (let i = 0; ; i++) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      n += value.length;
      if (i % 8 === 0) await delay(1);
    }
    assert.equal(n, body.length);
    assert.equal(hash.digest("hex"), createHash("sha256").update(body).digest("hex"));
  } finally {
    await srv.close();
  }
});

test("a reader that pauses longer than idleTimeoutMs while the server is ready to send still gets the whole body", async () => {
  const body = randomBytes(16 << 20);
  const srv = await httpServer((_req, res) => {
    res.writeHead(200, { "Content-Length": String(body.length) });
    res.end(body);
  });
  try {
    const res = await plainHttpFetch({ fallback: noFallback(), idleTimeoutMs: 200 })(`${srv.url}/`);
    assert.ok(res.body);
    const reader = res.body.getReader();
    const chunks: Buffer[] = [];
    const first = await reader.read();
    assert.ok(!first.done);
    chunks.push(Buffer.from(first.value));
    await delay(600); // the consumer is busy (say, writing to a slow disk); the server is not idle
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
    }
    assert.ok(Buffer.concat(chunks).equals(body));
  } finally {
    await srv.close();
  }
});

// ---- failures ------------------------------------------------------------------------------

test("a refused connection is TypeError('fetch failed') with cause ECONNREFUSED", async () => {
  const port = await closedPort();
  await assert.rejects(plainHttpFetch({ fallback: noFallback() })(`http://127.0.0.1:${port}/v2/`), fetchError("fetch failed", { code: "ECONNREFUSED" }));
});

test("a server that closes before answering is TypeError('fetch failed')", async () => {
  const srv = await tcpServer(async ({ socket, request }) => {
    await request;
    socket.end();
  });
  try {
    await assert.rejects(plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`), fetchError("fetch failed", { code: "ECONNRESET" }));
  } finally {
    await srv.close();
  }
});

test("a malformed status line or header line is TypeError('fetch failed')", async () => {
  const badStatus = await rawResponder(["HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n"], "stay-open");
  const notHttp = await rawResponder(["SSH-2.0-OpenSSH_9.6\r\n\r\n"], "stay-open");
  const badHeader = await rawResponder(["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"], "stay-open");
  const badLength = await rawResponder(["HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n"], "stay-open");
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    await assert.rejects(f(`${badStatus.url}/`), fetchError("fetch failed", { message: /malformed status line/ }));
    await assert.rejects(f(`${notHttp.url}/`), fetchError("fetch failed", { message: /malformed status line/ }));
    await assert.rejects(f(`${badHeader.url}/`), fetchError("fetch failed", { message: /malformed header line/ }));
    await assert.rejects(f(`${badLength.url}/`), fetchError("fetch failed", { message: /Content-Length/ }));
  } finally {
    await badStatus.close();
    await notHttp.close();
    await badHeader.close();
    await badLength.close();
  }
});

test("an unsupported transfer coding is TypeError('fetch failed'), not coded bytes passed off as the body", async () => {
  const srv = await rawResponder(["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"], "stay-open");
  try {
    await assert.rejects(plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`), fetchError("fetch failed", { message: /Transfer-Encoding/ }));
  } finally {
    await srv.close();
  }
});

test("a response head that never ends and passes 64 KiB is TypeError('fetch failed'), without waiting for more", async () => {
  const srv = await tcpServer(async ({ socket, request }) => {
    await request;
    socket.write("HTTP/1.1 200 OK\r\n");
    for (let i = 0; i < 100; i++) {
      socket.write(`X-Filler-${i}: ${"f".repeat(1000)}\r\n`);
      await tick();
    }
    // no blank line, and the connection stays open
  });
  try {
    await assert.rejects(plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`), fetchError("fetch failed", { message: /response head larger than/ }));
  } finally {
    await srv.close();
  }
});

test("a complete response head over 64 KiB is TypeError('fetch failed') however it is split into reads", async () => {
  const filler = Array.from({ length: 80 }, (_, i) => `X-Filler-${i}: ${"f".repeat(1000)}\r\n`).join(""); // ~80 KiB
  const wire = `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${filler}\r\nok`;
  const srv = await rawResponder([wire]); // one write: it arrives in one read on loopback
  try {
    await assert.rejects(plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`), fetchError("fetch failed", { message: /response head larger than/ }));
  } finally {
    await srv.close();
  }
});

test("a Content-Length longer than what is sent, then a close: the body errors with TypeError('terminated') after the bytes that came", async () => {
  const srv = await rawResponder(["HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only 20 bytes here.."]);
  try {
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`);
    assert.equal(res.status, 200);
    assert.ok(res.body);
    const reader = res.body.getReader();
    let got = "";
    await assert.rejects(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          got += Buffer.from(value).toString();
        }
      })(),
      fetchError("terminated", { code: "ECONNRESET" }),
    );
    assert.equal(got, "only 20 bytes here..");
  } finally {
    await srv.close();
  }
});

test("a chunked body cut short or with a malformed chunk size errors with TypeError('terminated')", async () => {
  const cut = await rawResponder(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nshort"]);
  const noLast = await rawResponder(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"]);
  const bad = await rawResponder(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nxx\r\n0\r\n\r\n"], "stay-open");
  const noCrlf = await rawResponder(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n"], "stay-open");
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    await assert.rejects(readAll((await f(`${cut.url}/`)).body), fetchError("terminated", { code: "ECONNRESET" }));
    await assert.rejects(readAll((await f(`${noLast.url}/`)).body), fetchError("terminated", { code: "ECONNRESET" }));
    await assert.rejects(readAll((await f(`${bad.url}/`)).body), fetchError("terminated", { message: /malformed chunk size/ }));
    await assert.rejects(readAll((await f(`${noCrlf.url}/`)).body), fetchError("terminated", { message: /missing CRLF/ }));
  } finally {
    await cut.close();
    await noLast.close();
    await bad.close();
    await noCrlf.close();
  }
});

test("a server that accepts and says nothing fails after idleTimeoutMs with TypeError('fetch failed'), and the connection is closed", async () => {
  let serverSide: Promise<void> | undefined;
  const srv = await tcpServer(({ closed }) => {
    serverSide = closed;
  });
  try {
    await assert.rejects(plainHttpFetch({ fallback: noFallback(), idleTimeoutMs: 200 })(`${srv.url}/`), fetchError("fetch failed", { code: "ETIMEDOUT" }));
    assert.ok(serverSide);
    await serverSide;
  } finally {
    await srv.close();
  }
});

test("a server that goes silent mid-body fails the body after idleTimeoutMs with TypeError('terminated')", async () => {
  const srv = await rawResponder(["HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", "a little"], "stay-open");
  try {
    const res = await plainHttpFetch({ fallback: noFallback(), idleTimeoutMs: 200 })(`${srv.url}/`);
    await assert.rejects(readAll(res.body), fetchError("terminated", { code: "ETIMEDOUT" }));
  } finally {
    await srv.close();
  }
});

// ---- aborts --------------------------------------------------------------------------------

test("a signal aborted before the call rejects with its reason and opens no connection", async () => {
  const srv = await httpServer((_req, res) => res.end("ok"));
  let connections = 0;
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    const controller = new AbortController();
    const reason = new Error("not wanted any more");
    controller.abort(reason);
    await assert.rejects(f(`${srv.url}/`, { signal: controller.signal }), (e) => e === reason);

    const plain = new AbortController();
    plain.abort();
    await assert.rejects(f(`${srv.url}/`, { signal: plain.signal }), (e: Error) => e.name === "AbortError");

    // the server has not seen a request: count the one that follows
    const counting = await tcpServer(async ({ socket, request }) => {
      connections++;
      await request;
      socket.end("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    try {
      const c = new AbortController();
      c.abort();
      await assert.rejects(f(`${counting.url}/`, { signal: c.signal }));
      assert.equal((await f(`${counting.url}/`)).status, 200);
      assert.equal(connections, 1);
    } finally {
      await counting.close();
    }
  } finally {
    await srv.close();
  }
});

test("an abort while waiting for the response rejects with the reason and closes the connection", async () => {
  let arrived: () => void = () => undefined;
  const requestIn = new Promise<void>((resolve) => (arrived = resolve));
  let serverSide: Promise<void> | undefined;
  const srv = await tcpServer(async ({ request, closed }) => {
    serverSide = closed;
    await request;
    arrived();
    // and never answer
  });
  try {
    const controller = new AbortController();
    const reason = new Error("user pressed ^C");
    const pending = plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`, { signal: controller.signal });
    await requestIn;
    controller.abort(reason);
    await assert.rejects(pending, (e) => e === reason);
    assert.ok(serverSide);
    await serverSide; // the client hung up
  } finally {
    await srv.close();
  }
});

test("an abort during the body errors the body with the reason and closes the connection", async () => {
  let serverSide: Promise<void> | undefined;
  const srv = await tcpServer(async ({ socket, request, closed }) => {
    serverSide = closed;
    await request;
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nthe first bytes");
    // the rest never comes
  });
  try {
    const controller = new AbortController();
    const reason = new Error("cancelled mid-download");
    const res = await plainHttpFetch({ fallback: noFallback() })(`${srv.url}/`, { signal: controller.signal });
    assert.ok(res.body);
    const reader = res.body.getReader();
    const first = await reader.read();
    assert.equal(Buffer.from(first.value ?? []).toString(), "the first bytes");
    controller.abort(reason);
    await assert.rejects(reader.read(), (e) => e === reason);
    assert.ok(serverSide);
    await serverSide;
  } finally {
    await srv.close();
  }
});

test("an abort after the body was read has no effect; cancelling a body closes the connection", async () => {
  let serverSide: Promise<void> | undefined;
  const srv = await tcpServer(async ({ socket, request, closed }) => {
    serverSide = closed;
    await request;
    if ((await request).startsWith("GET /whole ")) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone");
    else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nstart");
  });
  try {
    const f = plainHttpFetch({ fallback: noFallback() });
    const controller = new AbortController();
    const res = await f(`${srv.url}/whole`, { signal: controller.signal });
    assert.equal(await res.text(), "done");
    controller.abort(new Error("too late"));

    const res2 = await f(`${srv.url}/part`);
    assert.ok(res2.body);
    const reader = res2.body.getReader();
    assert.equal(Buffer.from((await reader.read()).value ?? []).toString(), "start");
    await reader.cancel();
    assert.ok(serverSide);
    await serverSide;
  } finally {
    await srv.close();
  }
});

// ---- what goes to the fallback ---------------------------------------------------------

test("https, methods other than GET and HEAD, request bodies and URLs with credentials go to the fallback, untouched", async () => {
  const { calls, fetchLike } = recordingFallback();
  const f = plainHttpFetch({ fallback: fetchLike });
  const cases: { input: string | URL; init?: RequestInit }[] = [
    { input: "https://registry.example/v2/" },
    { input: new URL("https://registry.example/v2/x/manifests/latest"), init: { method: "HEAD" } },
    { input: "http://127.0.0.1:1/v2/x/blobs/uploads/", init: { method: "POST" } },
    { input: "http://127.0.0.1:1/v2/x/blobs/uploads/1", init: { method: "PUT", body: "data" } },
    { input: "http://127.0.0.1:1/v2/x/manifests/sha256:1", init: { method: "DELETE" } },
    { input: "http://127.0.0.1:1/v2/x/blobs/uploads/1", init: { method: "PATCH", body: new Uint8Array([1, 2]) } },
    { input: "http://127.0.0.1:1/v2/", init: { method: "GET", body: "odd but possible" } },
    { input: "http://user:secret@127.0.0.1:1/v2/" },
    { input: "http://user@127.0.0.1:1/v2/" },
  ];
  for (const c of cases) {
    const res = await f(c.input, c.init);
    assert.equal(res.status, 299, `for ${String(c.input)} ${c.init?.method ?? "GET"}`);
    assert.equal(await res.text(), "from the fallback");
  }
  assert.equal(calls.length, cases.length);
  cases.forEach((c, i) => {
    assert.equal(calls[i]?.input, c.input, "the same input");
    assert.equal(calls[i]?.init, c.init, "the same init");
  });
});

test("plain-HTTP GETs and HEADs do not touch the fallback", async () => {
  const { calls, fetchLike } = recordingFallback();
  const srv = await httpServer((_req, res) => res.end("mine"));
  try {
    const f = plainHttpFetch({ fallback: fetchLike });
    assert.equal(await (await f(`${srv.url}/a`)).text(), "mine");
    assert.equal((await f(`${srv.url}/a`, { method: "HEAD" })).status, 200);
    assert.equal(await (await f(`${srv.url}/a`, { method: "GET", body: null })).text(), "mine");
    assert.equal(calls.length, 0);
  } finally {
    await srv.close();
  }
});

test("large body chunks are lent read buffers: recycled at once and overwritten, the next bytes are still exact (three bodies at a time)", async () => {
  const bodies = [randomBytes(24 << 20), randomBytes(16 << 20), randomBytes(20 << 20)];
  const server = await httpServer((req, res) => {
    const body = bodies[Number(req.url?.slice(1))] as Buffer;
    res.writeHead(200, { "Content-Length": String(body.length) });
    res.end(body);
  });
  try {
    const fetchFn = plainHttpFetch({ fallback: noFallback() });
    let lent = 0;
    const digests = await Promise.all(bodies.map(async (_, i) => {
      const res = await fetchFn(`${server.url}/${i}`);
      const hash = createHash("sha256");
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        if (chunk.byteLength >= LEND_MIN_BYTES) lent++;
        recycleChunk(chunk);
        chunk.fill(0x55); // what a careless reuse would look like: must not reach later chunks
        await tick();
      }
      return hash.digest("hex");
    }));
    assert.deepEqual(digests, bodies.map((b) => createHash("sha256").update(b).digest("hex")));
    assert.ok(lent > 0, "some chunks were lent buffers");
  } finally {
    await server.close();
  }
});

test("the response reads as text, JSON or bytes once, and a status outside 200-599 is a failed fetch", async () => {
  const srv = await httpServer((req, res) => {
    if (req.url === "/odd") {
      res.socket?.end("HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    res.writeHead(404, "Nope", { "Content-Type": "application/json" });
    res.end(JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN" }] }));
  });
  try {
    const fetchFn = plainHttpFetch({ fallback: noFallback() });
    const res = await fetchFn(`${srv.url}/x`);
    assert.equal(res.ok, false);
    assert.equal(res.statusText, "Nope");
    assert.equal(res.bodyUsed, false);
    assert.deepEqual(await res.json(), { errors: [{ code: "BLOB_UNKNOWN" }] });
    assert.equal(res.bodyUsed, true);
    await assert.rejects(res.text(), /already been read/);
    assert.equal(new TextDecoder().decode(await (await fetchFn(`${srv.url}/x`)).arrayBuffer()), '{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    await assert.rejects(fetchFn(`${srv.url}/odd`), (err: unknown) => err instanceof TypeError && err.message === "fetch failed" && /600/.test(String((err as Error).cause)));
  } finally {
    await srv.close();
  }
});
