/**
 * The client's connect, response and body timeouts, against real loopback servers that
 * accept and never answer (or stop mid-body): the error names the host and what did not
 * come, is classified Unavailable, and the connections are closed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { Readable } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import { isInvalidArgument, isUnavailable } from "../../../src/errdefs/index.js";
import { parseNormalizedNamed } from "../../../src/reference/index.js";
import {
  DEFAULT_TIMEOUTS, RegistryClient, RegistryHosts, Resolver, SchemeProbe, nodeHttpFetch, timeoutsFromEnv,
} from "../../../src/registry/client/index.js";
import { certOrSkip, type Cert } from "../../helpers/tls-cert.js";
import { listenLoopback, silentServer, SteppingClock, type ListeningServer, type SilentServer } from "./fixtures.js";

/** Waits (a bounded number of turns) until the server has no connection open. */
async function allClosed(srv: SilentServer): Promise<void> {
  for (let i = 0; i < 500 && srv.open() > 0; i++) await delay(10);
  assert.equal(srv.open(), 0, "the client closed its connections");
}

test("a plain-HTTP registry that accepts and never answers: unavailable, naming the host and the response timeout, after two attempts", async () => {
  const srv = await silentServer();
  try {
    const client = new RegistryClient({ host: srv.host, insecure: true, clock: new SteppingClock(), timeouts: { responseMs: 200 } });
    await assert.rejects(client.ping(), (err: Error) => {
      assert.ok(isUnavailable(err), String(err));
      assert.equal(err.message, `cannot reach registry ${srv.host}: GET /v2/: ${srv.host}: no response within 200ms (2 attempts)`);
      return true;
    });
    assert.equal(srv.accepted(), 2);
    await allClosed(srv);
  } finally {
    await srv.close();
  }
});

test("a pull from a registry that never answers says it is unreachable and why", async () => {
  const srv = await silentServer();
  try {
    const hosts = new RegistryHosts({ [srv.host]: { insecure: true } });
    const resolver = new Resolver({ hosts, clock: new SteppingClock(), timeouts: { responseMs: 150 } });
    await assert.rejects(resolver.puller(parseNormalizedNamed(`${srv.host}/app:v1`)).resolve(), (err: Error) => {
      assert.ok(isUnavailable(err), String(err));
      assert.equal(err.message, `pull ${srv.host}/app:v1: registry ${srv.host} is unreachable: ${srv.host}: no response within 150ms`);
      return true;
    });
    await allClosed(srv);
  } finally {
    await srv.close();
  }
});

test("a loopback server that never answers the TLS handshake of the HTTPS-first probe: unavailable, nothing remembered", async () => {
  const srv = await silentServer();
  try {
    const probe = new SchemeProbe();
    const client = new RegistryClient({ host: srv.host, maxAttempts: 1, schemeProbe: probe, timeouts: { connectMs: 150 } });
    await assert.rejects(client.ping(), (err: Error) => {
      assert.ok(isUnavailable(err), String(err));
      assert.equal(err.message, `cannot reach registry ${srv.host}: GET /v2/: ${srv.host}: no TLS handshake within 150ms`);
      return true;
    });
    assert.equal(probe.known(srv.host), undefined);
    await allClosed(srv);
  } finally {
    await srv.close();
  }
});

test("HTTPS: no TLS handshake, no response head, and a body that stalls each fail with what timed out", async (t) => {
  const cert = await certOrSkip(t, "timeouts.test.ts");
  if (!cert) return;
  const silent = await silentServer();
  const tls = await stallingTlsServer(cert);
  try {
    const fetchFn = nodeHttpFetch({ verifyTls: false, timeouts: { connectMs: 150, responseMs: 150, bodyIdleMs: 150 } });
    await assert.rejects(fetchFn(`https://${silent.host}/v2/`), (err: Error) => {
      assert.equal(err.message, "fetch failed");
      assert.equal((err.cause as Error).message, `${silent.host}: no TLS handshake within 150ms`);
      return true;
    });
    await assert.rejects(fetchFn(`https://${tls.host}/never`), (err: Error) => {
      assert.equal((err.cause as Error).message, `${tls.host}: no response within 150ms`);
      return true;
    });
    const res = await fetchFn(`https://${tls.host}/stall`);
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), (err: Error) => {
      assert.equal(err.message, `${tls.host}: response body stalled: no data for 150ms`);
      return true;
    });
    await allClosed(silent);
  } finally {
    await tls.close();
    await silent.close();
  }
});

test("a pull over HTTPS whose blob stalls mid-body fails as unavailable", async (t) => {
  const cert = await certOrSkip(t, "timeouts.test.ts");
  if (!cert) return;
  const tls = await stallingTlsServer(cert);
  try {
    const client = new RegistryClient({ baseUrl: `https://${tls.host}`, skipVerify: true, clock: new SteppingClock(), timeouts: { bodyIdleMs: 150 } });
    const digest = `sha256:${"a".repeat(64)}` as const;
    const blob = await client.fetchBlob("app", digest, { size: 1000 });
    await assert.rejects(
      (async () => {
        for await (const chunk of blob) void chunk;
      })(),
      (err: Error) => {
        assert.ok(isUnavailable(err), String(err));
        assert.equal(err.message, `blob ${digest} in app at registry ${tls.host}: download failed after 8 bytes: ${tls.host}: response body stalled: no data for 150ms`);
        return true;
      },
    );
  } finally {
    await tls.close();
  }
});

test("an upload the server stops taking fails after the body timeout, naming the host, and the upload is cancelled", async () => {
  const seen: string[] = [];
  const srv = await listenLoopback(createHttpServer((req, res) => {
    seen.push(`${req.method ?? ""} ${req.url ?? ""}`);
    if (req.method === "POST") return res.writeHead(202, { Location: "/v2/app/blobs/uploads/u1", "Content-Length": "0" }).end();
    if (req.method === "PATCH") return req.pause(); // takes nothing more, never answers
    req.resume();
    res.writeHead(204).end();
  }));
  try {
    const client = new RegistryClient({ baseUrl: `http://${srv.host}`, clock: new SteppingClock(), timeouts: { bodyIdleMs: 150 } });
    const chunk = Buffer.alloc(1 << 20, 7);
    const body = Readable.from((function* () {
      for (let i = 0; i < 256; i++) yield chunk; // far more than the socket buffers hold
    })());
    await assert.rejects(client.pushBlob("app", body), (err: Error) => {
      assert.ok(isUnavailable(err), String(err));
      assert.match(err.message, new RegExp(`PATCH /v2/app/blobs/uploads/u1: ${srv.host}: upload stalled: the server took no data for 150ms$`));
      return true;
    });
    assert.deepEqual(seen, ["POST /v2/app/blobs/uploads/", "PATCH /v2/app/blobs/uploads/u1", "DELETE /v2/app/blobs/uploads/u1"]);
  } finally {
    await srv.close();
  }
});

test("timeouts from the environment: durations in s, ms or m, and a bad value names its variable", () => {
  assert.deepEqual(timeoutsFromEnv({}), {});
  assert.deepEqual(
    timeoutsFromEnv({ PODYARD_REGISTRY_CONNECT_TIMEOUT: "5", PODYARD_REGISTRY_RESPONSE_TIMEOUT: "250ms", PODYARD_REGISTRY_BODY_TIMEOUT: "2m" }),
    { connectMs: 5000, responseMs: 250, bodyIdleMs: 120_000 },
  );
  assert.deepEqual(timeoutsFromEnv({ PODYARD_REGISTRY_RESPONSE_TIMEOUT: "1.5s" }), { responseMs: 1500 });
  for (const bad of ["soon", "0", "-1s", "10h"]) {
    assert.throws(() => timeoutsFromEnv({ PODYARD_REGISTRY_BODY_TIMEOUT: bad }), (err: Error) =>
      isInvalidArgument(err) && err.message === `PODYARD_REGISTRY_BODY_TIMEOUT=${JSON.stringify(bad)}: want a duration above 0 such as 30s, 500ms or 2m`);
  }
  assert.deepEqual(DEFAULT_TIMEOUTS, { connectMs: 30_000, responseMs: 60_000, bodyIdleMs: 60_000 });
});

/** An HTTPS server: `/never` gets no answer; `/stall` and blob GETs get a head and 8 of 1000 bytes, then silence. */
function stallingTlsServer(cert: Cert): Promise<ListeningServer> {
  return listenLoopback(createHttpsServer({ cert: cert.cert, key: cert.key }, (req, res) => {
    if (req.url === "/never") return;
    res.writeHead(200, { "Content-Length": "1000", "Content-Type": "application/octet-stream" });
    res.write("a little");
  }));
}
