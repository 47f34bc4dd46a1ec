import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { FakeClock } from "../../../src/clock/index.js";
import { errorClass, isUnavailable, NotImplementedError } from "../../../src/errdefs/index.js";
import { digestOf } from "../../../src/oci/index.js";
import { backoffMs, DEFAULT_RETRY_POLICY, isTransientStatus, RegistryClient, retryAfterMs } from "../../../src/registry/client/index.js";
import { collect, ociError, rawServer, SteppingClock } from "./fixtures.js";

/** A FakeClock that tells how many sleeps are pending. */
class WatchedClock extends FakeClock {
  sleeping = 0;
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeping++;
    return super.sleep(ms, signal).finally(() => this.sleeping--);
  }
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await delay(1);
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A /v2/ that answers each request with the next status of `statuses` (the last one repeats). */
async function statusServer(statuses: (number | "cut")[], headers: Record<string, string> = {}) {
  let requests = 0;
  const srv = await rawServer((req, res) => {
    const s = statuses[Math.min(requests++, statuses.length - 1)] ?? 200;
    if (s === "cut") {
      req.socket.destroy();
      return;
    }
    const body = s === 200 ? "{}" : ociError(s === 429 ? "TOOMANYREQUESTS" : "UNAVAILABLE", "try later");
    res.writeHead(s, { "Content-Type": "application/json", ...(s === 200 ? {} : headers) });
    res.end(body);
  });
  return { srv, count: () => requests };
}

test("503 is retried after exponential back-off on the injected clock, then succeeds", async () => {
  const { srv, count } = await statusServer([503, 503, 200]);
  try {
    const clock = new WatchedClock(0);
    const client = new RegistryClient({ baseUrl: srv.url, clock });
    const ping = client.ping();
    await waitFor(() => clock.sleeping === 1, "the first back-off");
    assert.equal(count(), 1);
    clock.step(499);
    await delay(20);
    assert.equal(count(), 1, "the first back-off is 500 ms");
    clock.step(1);
    await waitFor(() => count() === 2 && clock.sleeping === 1, "the second request and back-off");
    clock.step(999);
    await delay(20);
    assert.equal(count(), 2, "the second back-off is 1000 ms");
    clock.step(1);
    await ping;
    assert.equal(count(), 3);
    assert.equal(clock.now(), 1500);
  } finally {
    await srv.close();
  }
});

test("429 waits as long as Retry-After says; a Retry-After beyond the limit is not waited for", async () => {
  const ok = await statusServer([429, 200], { "Retry-After": "7" });
  const long = await statusServer([429, 200], { "Retry-After": "3600" });
  try {
    const clock = new SteppingClock(0);
    await new RegistryClient({ baseUrl: ok.srv.url, clock }).ping();
    assert.deepEqual(clock.sleeps, [7000]);
    assert.equal(ok.count(), 2);

    const clock2 = new SteppingClock(0);
    await assert.rejects(new RegistryClient({ baseUrl: long.srv.url, clock: clock2 }).ping(), (e: Error) =>
      errorClass(e) === "ResourceExhausted" && e.message.startsWith(`too many requests: registry ${long.srv.host}`) && e.message.endsWith("(TOOMANYREQUESTS)"));
    assert.deepEqual(clock2.sleeps, []);
    assert.equal(long.count(), 1);
  } finally {
    await ok.srv.close();
    await long.srv.close();
  }
});

test("transient failures give up after maxAttempts with an Unavailable error naming the host", async () => {
  const { srv, count } = await statusServer([503]);
  try {
    const clock = new SteppingClock(0);
    await assert.rejects(new RegistryClient({ baseUrl: srv.url, clock, maxAttempts: 3 }).ping(), (e: Error) =>
      isUnavailable(e) && e.message.includes(`registry ${srv.host} answered 503`) && e.message.endsWith("(UNAVAILABLE)"));
    assert.equal(count(), 3);
    assert.deepEqual(clock.sleeps, [500, 1000]);
  } finally {
    await srv.close();
  }
});

test("a dropped connection is retried; 501 is not", async () => {
  const cut = await statusServer(["cut", 200]);
  const unimplemented = await statusServer([501]);
  try {
    const clock = new SteppingClock(0);
    await new RegistryClient({ baseUrl: cut.srv.url, clock }).ping();
    assert.equal(cut.count(), 2);
    assert.deepEqual(clock.sleeps, [500]);
    await assert.rejects(new RegistryClient({ baseUrl: unimplemented.srv.url, clock }).ping(), NotImplementedError);
    assert.equal(unimplemented.count(), 1);
  } finally {
    await cut.srv.close();
    await unimplemented.srv.close();
  }
});

test("an unreachable registry is an Unavailable error after the attempts", async () => {
  const srv = await rawServer(() => undefined);
  await srv.close();
  const clock = new SteppingClock(0);
  await assert.rejects(new RegistryClient({ baseUrl: srv.url, clock, maxAttempts: 2 }).ping(), (e: Error) =>
    isUnavailable(e) && e.message.startsWith(`cannot reach registry ${srv.host}`));
  assert.deepEqual(clock.sleeps, [500]);
});

test("a refused connection is tried once more after 500 ms, not through the whole back-off", async () => {
  const srv = await rawServer(() => undefined);
  await srv.close(); // nothing listens there now
  const clock = new SteppingClock(0);
  await assert.rejects(new RegistryClient({ baseUrl: srv.url, clock }).ping(), (e: Error) =>
    isUnavailable(e) && /ECONNREFUSED/.test(e.message) && /\(2 attempts\)/.test(e.message));
  assert.deepEqual(clock.sleeps, [500]);
});

test("a registry host name that does not resolve is tried once more after 500 ms, not through the whole back-off", async () => {
  // what Node's fetch rejects with when getaddrinfo finds no such host (no DNS query leaves the machine here)
  let calls = 0;
  const notFound = (): Promise<Response> => {
    calls++;
    const cause = Object.assign(new Error("getaddrinfo ENOTFOUND registry.invalid"), { code: "ENOTFOUND", syscall: "getaddrinfo", hostname: "registry.invalid" });
    return Promise.reject(new TypeError("fetch failed", { cause }));
  };
  const clock = new SteppingClock(0);
  await assert.rejects(new RegistryClient({ baseUrl: "https://registry.invalid", clock, fetch: notFound }).ping(), (e: Error) =>
    isUnavailable(e) && /ENOTFOUND registry\.invalid/.test(e.message) && /\(2 attempts\)/.test(e.message));
  assert.equal(calls, 2);
  assert.deepEqual(clock.sleeps, [500]);
});

test("redirects are followed without sending Authorization to another host", async () => {
  const blob = Buffer.from("layer bytes from the CDN");
  const digest = digestOf(blob);
  const cdnAuth: (string | undefined)[] = [];
  const cdn = await rawServer((req, res) => {
    cdnAuth.push(req.headers.authorization);
    res.writeHead(200, { "Content-Length": blob.length });
    res.end(blob);
  });
  const registryAuth: (string | undefined)[] = [];
  const basic = `Basic ${Buffer.from("alice:secret").toString("base64")}`;
  const reg = await rawServer((req, res) => {
    registryAuth.push(req.headers.authorization);
    if (req.headers.authorization !== basic) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="test"', "Content-Type": "application/json" });
      res.end(ociError("UNAUTHORIZED", "authentication required"));
    } else if (req.url?.startsWith("/v2/library/x/blobs/")) {
      res.writeHead(307, { Location: "/moved" + (req.url ?? "") });
      res.end();
    } else if (req.url?.startsWith("/moved/")) {
      res.writeHead(307, { Location: `${cdn.url}/signed?sig=abc` });
      res.end();
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  try {
    const client = new RegistryClient({ baseUrl: reg.url, credentials: { username: "alice", password: "secret" } });
    const got = await collect(await client.fetchBlob("library/x", digest));
    assert.ok(got.equals(blob));
    assert.deepEqual(registryAuth, [undefined, basic, basic], "the same-origin redirect keeps the credentials");
    assert.deepEqual(cdnAuth, [undefined]);
  } finally {
    await reg.close();
    await cdn.close();
  }
});

test("retry helpers: transient statuses, back-off, Retry-After", () => {
  assert.deepEqual([408, 429, 500, 502, 503, 504, 501, 505, 404, 401].map(isTransientStatus),
    [true, true, true, true, true, true, false, false, false, false]);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((a) => backoffMs(a, DEFAULT_RETRY_POLICY)), [500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  assert.equal(retryAfterMs("12", 0), 12_000);
  assert.equal(retryAfterMs(new Date(60_000).toUTCString(), 30_000), 30_000);
  assert.equal(retryAfterMs("soon", 0), undefined);
  assert.equal(retryAfterMs(null, 0), undefined);
});
