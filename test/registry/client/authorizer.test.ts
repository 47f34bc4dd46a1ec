import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage, ServerResponse } from "node:http";
import { FakeClock } from "../../../src/clock/index.js";
import { errorClass, UnauthenticatedError } from "../../../src/errdefs/index.js";
import { digestOf } from "../../../src/oci/index.js";
import { mergeScopes, RegistryClient } from "../../../src/registry/client/index.js";
import { ociError, rawServer, type RawServer } from "./fixtures.js";

interface TokenRequest {
  service: string | null;
  scopes: string[];
  account: string | null;
  authorization: string | undefined;
}

/**
 * A registry with distribution-style token auth on one raw server: /token hands out
 * tokens, /v2/ wants `Bearer <valid token>`, and every blob HEAD answers 200.
 */
async function tokenRegistry(opts: { password?: string; acceptTokens?: boolean } = {}) {
  const tokens: TokenRequest[] = [];
  const valid = new Set<string>();
  let unauthorized = 0;
  let requests = 0;
  let issued = 0;
  let srv: RawServer | undefined = undefined;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/token") {
      tokens.push({
        service: url.searchParams.get("service"),
        scopes: url.searchParams.getAll("scope"),
        account: url.searchParams.get("account"),
        authorization: req.headers.authorization,
      });
      if (opts.password !== undefined && req.headers.authorization !== `Basic ${Buffer.from(`alice:${opts.password}`).toString("base64")}`) {
        res.writeHead(401, { "Content-Type": "application/json" });
        res.end('{"details":"incorrect username or password"}');
        return;
      }
      const token = `tok-${++issued}`;
      if (opts.acceptTokens !== false) valid.add(token);
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ token, expires_in: 300 }));
      return;
    }
    requests++;
    const name = /^\/v2\/(.+)\/blobs\//.exec(url.pathname)?.[1] ?? "";
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
    if (token === undefined || !valid.has(token)) {
      unauthorized++;
      const error = token === undefined ? "" : ',error="invalid_token"';
      res.writeHead(401, {
        "WWW-Authenticate": `Bearer realm="${srv?.url ?? ""}/token",service="test-registry",scope="repository:${name}:pull"${error}`,
        "Content-Type": "application/json",
      });
      res.end(ociError("UNAUTHORIZED", "authentication required"));
      return;
    }
    res.writeHead(200, { "Content-Length": 0 });
    res.end();
  };
  srv = await rawServer(handler);
  return { srv, tokens, valid, stats: () => ({ unauthorized, requests }) };
}

const D = digestOf("x");

test("anonymous bearer: one token per scope set, fetched once for concurrent requests and reused", async () => {
  const t = await tokenRegistry();
  try {
    const client = new RegistryClient({ baseUrl: t.srv.url, clock: new FakeClock(0) });
    const results = await Promise.all(Array.from({ length: 5 }, () => client.blobExists("library/x", D)));
    assert.deepEqual(results, [true, true, true, true, true]);
    assert.deepEqual(t.tokens, [{ service: "test-registry", scopes: ["repository:library/x:pull"], account: null, authorization: undefined }]);
    const before = t.stats().unauthorized;
    await client.blobExists("library/x", D);
    assert.equal(t.tokens.length, 1, "the cached token is reused");
    assert.equal(t.stats().unauthorized, before, "no new challenge once the scheme is known");
    await client.blobExists("library/y", D);
    assert.deepEqual(t.tokens[1]?.scopes, ["repository:library/y:pull"], "another repository is another scope set");
  } finally {
    await t.srv.close();
  }
});

test("credentials go to the token server as Basic auth with account=", async () => {
  const t = await tokenRegistry({ password: "s3cret" });
  try {
    const client = new RegistryClient({ baseUrl: t.srv.url, credentials: { username: "alice", password: "s3cret" } });
    assert.equal(await client.blobExists("team/app", D), true);
    assert.deepEqual(t.tokens, [{
      service: "test-registry",
      scopes: ["repository:team/app:pull"],
      account: "alice",
      authorization: `Basic ${Buffer.from("alice:s3cret").toString("base64")}`,
    }]);

    const wrong = new RegistryClient({ baseUrl: t.srv.url, credentials: { username: "alice", password: "nope" } });
    await assert.rejects(wrong.blobExists("team/app", D), (e: Error) =>
      e instanceof UnauthenticatedError && e.message.includes(`token server ${t.srv.host}`) && e.message.includes("alice"));
  } finally {
    await t.srv.close();
  }
});

test("tokens expire on the injected clock", async () => {
  const t = await tokenRegistry();
  try {
    const clock = new FakeClock(1_000_000);
    const client = new RegistryClient({ baseUrl: t.srv.url, clock });
    await client.blobExists("library/x", D);
    clock.step(200_000);
    await client.blobExists("library/x", D);
    assert.equal(t.tokens.length, 1);
    clock.step(100_000); // 300 s after issue: expired
    await client.blobExists("library/x", D);
    assert.equal(t.tokens.length, 2);
  } finally {
    await t.srv.close();
  }
});

test("a rejected token (invalid_token) is dropped and the request retried once with a new one", async () => {
  const t = await tokenRegistry();
  try {
    const client = new RegistryClient({ baseUrl: t.srv.url });
    await client.blobExists("library/x", D);
    t.valid.clear(); // the registry revokes every token
    const before = t.stats();
    assert.equal(await client.blobExists("library/x", D), true);
    assert.equal(t.tokens.length, 2);
    assert.deepEqual(t.stats(), { unauthorized: before.unauthorized + 1, requests: before.requests + 2 });
  } finally {
    await t.srv.close();
  }
});

test("a registry that keeps refusing tokens fails after one retry", async () => {
  const t = await tokenRegistry({ acceptTokens: false }); // hands out tokens it never accepts
  try {
    const client = new RegistryClient({ baseUrl: t.srv.url });
    await assert.rejects(client.blobExists("library/x", D), (e: Error) => errorClass(e) === "Unauthenticated" && e.message.includes(`registry ${t.srv.host}`));
    assert.equal(t.stats().requests, 2);
    assert.equal(t.tokens.length, 1);
  } finally {
    await t.srv.close();
  }
});

test("mount asks one token for push on the target and pull on the source", async () => {
  const t = await tokenRegistry();
  try {
    const client = new RegistryClient({ baseUrl: t.srv.url });
    // the raw server answers 200 to the POST: neither 201 nor 202, so mount fails; the token request is what matters
    await client.mountBlob("team/dst", D, "team/src").catch(() => undefined);
    assert.deepEqual(t.tokens[0]?.scopes, ["repository:team/dst:pull,push", "repository:team/src:pull"]);
  } finally {
    await t.srv.close();
  }
});

test("Basic auth: credentials after the challenge, then on every request; wrong ones fail after one retry", async () => {
  const good = `Basic ${Buffer.from("bob:pw").toString("base64")}`;
  let challenged = 0;
  let requests = 0;
  const srv = await rawServer((req, res) => {
    requests++;
    if (req.headers.authorization !== good) {
      challenged++;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="podyard"', "Content-Type": "application/json" });
      res.end(ociError("UNAUTHORIZED", "authentication required"));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end("{}");
  });
  try {
    const client = new RegistryClient({ baseUrl: srv.url, credentials: { username: "bob", password: "pw" } });
    await client.ping();
    await client.ping();
    assert.deepEqual({ challenged, requests }, { challenged: 1, requests: 3 });

    const wrong = new RegistryClient({ baseUrl: srv.url, credentials: { username: "bob", password: "bad" } });
    await assert.rejects(wrong.ping(), (e: Error) => e instanceof UnauthenticatedError && e.message.endsWith("(UNAUTHORIZED)"));
    assert.deepEqual({ challenged, requests }, { challenged: 3, requests: 5 });

    const anonymous = new RegistryClient({ baseUrl: srv.url });
    await assert.rejects(anonymous.ping(), UnauthenticatedError);
    assert.equal(requests, 6, "no retry without credentials");
  } finally {
    await srv.close();
  }
});

test("mergeScopes unions actions per resource, names with host:port included", () => {
  assert.deepEqual(mergeScopes(["repository:a:pull", "repository:a:push,pull", "repository:localhost:5000/b:pull", "registry:catalog:*", "odd"]),
    ["odd", "registry:catalog:*", "repository:a:pull,push", "repository:localhost:5000/b:pull"]);
  assert.deepEqual(mergeScopes([]), []);
});
