import { test } from "node:test";
import assert from "node:assert/strict";
import type { IncomingMessage } from "node:http";
import { FakeClock } from "../../../../src/clock/index.js";
import { formatScope, parseScope, type Access } from "../../../../src/registry/server/auth/access.js";
import { scopeParam, TokenAuthorizer } from "../../../../src/registry/server/auth/token-authorizer.js";
import { newTokenID, TokenSigner } from "../../../../src/registry/server/auth/token.js";
import { RegistryError } from "../../../../src/registry/server/index.js";
import { parseChallenge } from "./helpers.js";

const NOW = 1_700_000_000;
const signer = TokenSigner.generate();
const clock = new FakeClock(NOW * 1000);
const REALM = "http://127.0.0.1:5000/auth/token";

function request(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization } } as IncomingMessage;
}

function token(access: Access[], sub = "alice"): string {
  return signer.sign({ iss: "iss", sub, aud: "svc", iat: NOW, nbf: NOW, exp: NOW + 300, jti: newTokenID(), access });
}

const authorizer = new TokenAuthorizer({ realm: REALM, service: "svc", issuer: "iss", publicKey: signer.publicKey, clock });

async function challengeOf(p: Promise<unknown>): Promise<{ err: RegistryError; params: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RegistryError, String(err));
    assert.equal(err.ociCode, "UNAUTHORIZED");
    assert.equal(err.status, 401);
    const ch = parseChallenge(err.headers["WWW-Authenticate"] ?? null);
    assert.equal(ch.scheme, "Bearer");
    return { err, params: ch.params };
  }
  assert.fail("expected a 401");
}

const pullPush: Access = { type: "repository", name: "ns/app", actions: ["pull", "push"] };

test("scopes with host:port names parse, format and merge", () => {
  assert.deepEqual(parseScope("repository:localhost:5000/ns/app:pull,push"), { type: "repository", name: "localhost:5000/ns/app", actions: ["pull", "push"] });
  assert.deepEqual(parseScope("repository(plugin):127.0.0.1:5000/x:pull"), { type: "repository", name: "127.0.0.1:5000/x", actions: ["pull"] });
  assert.deepEqual(parseScope("registry:catalog:*"), { type: "registry", name: "catalog", actions: ["*"] });
  for (const bad of ["repository:app", "repository::pull", "user:app:pull", "repository:app:", ""]) assert.equal(parseScope(bad), undefined, bad);
  const a = parseScope("repository:[::1]:5000/app:pull");
  assert.equal(a?.name, "[::1]:5000/app");
  assert.equal(formatScope(a as Access), "repository:[::1]:5000/app:pull");
  assert.equal(scopeParam([
    { type: "repository", name: "localhost:5000/b", actions: ["pull", "push"] },
    { type: "repository", name: "a", actions: ["pull"] },
    { type: "repository", name: "localhost:5000/b", actions: ["pull", "delete"] },
  ]), "repository:localhost:5000/b:pull,push,delete repository:a:pull");
  assert.equal(scopeParam([]), "");
});

test("no token: challenge with realm, service and scope (none for /v2/)", async () => {
  const base = await challengeOf(authorizer.authorize(request(), []));
  assert.deepEqual(base.params, { realm: REALM, service: "svc" });
  assert.equal(base.err.headers["WWW-Authenticate"], `Bearer realm="${REALM}",service="svc"`);

  const repo = await challengeOf(authorizer.authorize(request(), [pullPush]));
  assert.deepEqual(repo.params, { realm: REALM, service: "svc", scope: "repository:ns/app:pull,push" });
  assert.deepEqual(repo.err.detail, [
    { Type: "repository", Class: "", Name: "ns/app", Action: "pull" },
    { Type: "repository", Class: "", Name: "ns/app", Action: "push" },
  ]);

  const mount = await challengeOf(authorizer.authorize(request(), [pullPush, { type: "repository", name: "localhost:5000/base", actions: ["pull"] }]));
  assert.equal(mount.params.scope, "repository:ns/app:pull,push repository:localhost:5000/base:pull");

  const basic = await challengeOf(authorizer.authorize(request("Basic YTpi"), [pullPush]));
  assert.equal(basic.params.error, undefined, "Basic credentials are not accepted; the client must fetch a token");
});

test("a valid token covering the request passes and names the user", async () => {
  assert.deepEqual(await authorizer.authorize(request(`Bearer ${token([pullPush])}`), [pullPush]), { user: "alice" });
  assert.deepEqual(await authorizer.authorize(request(`bearer ${token([pullPush])}`), [{ ...pullPush, actions: ["pull"] }]), { user: "alice" });
  assert.deepEqual(await authorizer.authorize(request(`Bearer ${token([], "")}`), []), { user: undefined }, "any valid token passes /v2/");
  const star: Access = { type: "repository", name: "ns/app", actions: ["*"] };
  assert.deepEqual(await authorizer.authorize(request(`Bearer ${token([star])}`), [{ ...pullPush, actions: ["delete"] }]), { user: "alice" });
});

test("insufficient and invalid tokens get error= in the challenge", async () => {
  const pull = token([{ type: "repository", name: "ns/app", actions: ["pull"] }]);
  const weak = await challengeOf(authorizer.authorize(request(`Bearer ${pull}`), [pullPush]));
  assert.deepEqual(weak.params, { realm: REALM, service: "svc", scope: "repository:ns/app:pull,push", error: "insufficient_scope" });
  assert.match(weak.err.message, /does not grant repository:ns\/app:pull,push/);

  const otherRepo = await challengeOf(authorizer.authorize(request(`Bearer ${pull}`), [{ type: "repository", name: "ns/other", actions: ["pull"] }]));
  assert.equal(otherRepo.params.error, "insufficient_scope");

  const garbage = await challengeOf(authorizer.authorize(request("Bearer abc.def.ghi"), [pullPush]));
  assert.equal(garbage.params.error, "invalid_token");
  assert.equal(garbage.params.scope, "repository:ns/app:pull,push");

  const forged = TokenSigner.generate().sign({ iss: "iss", sub: "eve", aud: "svc", iat: NOW, nbf: NOW, exp: NOW + 300, jti: "x", access: [pullPush] });
  assert.equal((await challengeOf(authorizer.authorize(request(`Bearer ${forged}`), [pullPush]))).params.error, "invalid_token");

  const later = new TokenAuthorizer({ realm: REALM, service: "svc", issuer: "iss", publicKey: signer.publicKey, clock: new FakeClock((NOW + 301) * 1000) });
  const expired = await challengeOf(later.authorize(request(`Bearer ${token([pullPush])}`), [pullPush]));
  assert.equal(expired.params.error, "invalid_token");
  assert.match(expired.err.message, /expired/);
});

test("realm may be computed per request; a custom verify function is used as given", async () => {
  const perRequest = new TokenAuthorizer({
    realm: (req) => `http://${req.headers.host ?? "?"}/auth/token`,
    service: "svc",
    issuer: "iss",
    verify: () => ({ iss: "iss", sub: "bob", aud: "svc", iat: 0, nbf: 0, exp: 0, jti: "", access: [pullPush] }),
  });
  const req = { headers: { host: "registry.local:5000" } } as IncomingMessage;
  assert.equal((await challengeOf(perRequest.authorize(req, []))).params.realm, "http://registry.local:5000/auth/token");
  assert.deepEqual(await perRequest.authorize(request("Bearer anything"), [pullPush]), { user: "bob" });
  assert.throws(() => new TokenAuthorizer({ realm: REALM, service: "svc", issuer: "iss" }), /publicKey or verify/);
});
