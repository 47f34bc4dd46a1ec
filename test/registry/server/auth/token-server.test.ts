import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock, type Clock } from "../../../../src/clock/index.js";
import { isInvalidArgument } from "../../../../src/errdefs/index.js";
import { MediaType } from "../../../../src/oci/index.js";
import type { Access } from "../../../../src/registry/server/auth/access.js";
import { Htpasswd } from "../../../../src/registry/server/auth/htpasswd.js";
import { createTokenAuth, grantAccess, TokenServer } from "../../../../src/registry/server/auth/token-server.js";
import { TokenSigner } from "../../../../src/registry/server/auth/token.js";
import { startRegistry, type TestRegistry } from "../../../helpers/registry.js";
import { basic, errorCode, getToken, htpasswdLine, parseChallenge, pushImage, TestClient, type TokenBody } from "./helpers.js";

const SERVICE = "podyard-test";
const ALICE = basic("alice", "wonderland");

let lines: Promise<string> | undefined;
function htpasswd(): Promise<Htpasswd> {
  lines ??= Promise.all([htpasswdLine("alice", "wonderland"), htpasswdLine("bob", "builder")]).then((ls) => ls.map((l) => l.line).join("\n"));
  return lines.then((text) => Htpasswd.parse(text, { source: "test" }));
}

interface Setup {
  reg: TestRegistry;
  realm: string;
}

async function withRegistry(opts: { anonymousPull: boolean; clock?: Clock; users?: boolean }, fn: (s: Setup) => Promise<void>): Promise<void> {
  let realm = "";
  const auth = createTokenAuth({
    realm: () => realm,
    service: SERVICE,
    anonymousPull: opts.anonymousPull,
    ...(opts.users === false ? {} : { htpasswd: await htpasswd() }),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const reg = await startRegistry({ authorizer: auth.authorizer, extraRoutes: { "/auth/token": auth.tokenEndpoint } });
  realm = `${reg.url}/auth/token`;
  try {
    await fn({ reg, realm });
  } finally {
    await reg.close();
  }
}

function claimsOf(token: string): { sub: string; aud: string; iss: string; exp: number; iat: number; access: Access[] } {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as ReturnType<typeof claimsOf>;
}

async function tokenOf(res: Response): Promise<TokenBody> {
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(res.headers.get("cache-control"), "no-store");
  return (await res.json()) as TokenBody;
}

async function bearerGet(url: string, token: string, accept: string = MediaType.ociManifest): Promise<Response> {
  return fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: accept } });
}

async function challenge(res: Response): Promise<Record<string, string>> {
  assert.equal(res.status, 401);
  assert.equal(await errorCode(res), "UNAUTHORIZED");
  const ch = parseChallenge(res.headers.get("www-authenticate"));
  assert.equal(ch.scheme, "Bearer");
  return ch.params;
}

test("token flow end to end: challenge, token with Basic, Bearer, push, pull, mount", async () => {
  await withRegistry({ anonymousPull: false }, async ({ reg, realm }) => {
    assert.deepEqual(await challenge(await fetch(`${reg.url}/v2/`)), { realm, service: SERVICE });
    const ch = await challenge(await fetch(`${reg.url}/v2/team/app/manifests/v1`));
    assert.deepEqual(ch, { realm, service: SERVICE, scope: "repository:team/app:pull" });

    const body = await tokenOf(await getToken(ch.realm ?? "", { service: ch.service ?? "", scopes: [ch.scope ?? ""], auth: ALICE, extra: { account: "alice", client_id: "test" } }));
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    assert.match(body.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.ok(Math.abs(Date.parse(body.issued_at) - Date.now()) < 5_000);
    assert.equal(body.refresh_token, undefined);
    const claims = claimsOf(body.token);
    assert.equal(claims.sub, "alice");
    assert.equal(claims.aud, SERVICE);
    assert.equal(claims.exp - claims.iat, 300);
    assert.deepEqual(claims.access, [{ type: "repository", name: "team/app", actions: ["pull"] }]);

    const missing = await bearerGet(`${reg.url}/v2/team/app/manifests/v1`, body.token);
    assert.equal(missing.status, 404, "authorized, but nothing there yet");
    assert.equal(await errorCode(missing), "NAME_UNKNOWN");
    const base = await bearerGet(`${reg.url}/v2/`, body.token);
    assert.equal(base.status, 200);
    await base.arrayBuffer();

    const client = new TestClient(ALICE);
    const img = await pushImage(client, reg.url, "team/app", "v1");
    const got = await client.fetch(`${reg.url}/v2/team/app/manifests/v1`, { headers: { Accept: MediaType.ociManifest } });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("docker-content-digest"), img.digest);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), img.manifest);
    assert.equal(client.tokenRequests, 1, "the pull,push token also covers the pull");
    const pulled = await bearerGet(`${reg.url}/v2/team/app/manifests/v1`, body.token);
    assert.equal(pulled.status, 200, "the first pull token now finds the manifest");
    await pulled.arrayBuffer();

    const layer = (JSON.parse(img.manifest.toString()) as { layers: { digest: string }[] }).layers[0]?.digest ?? "";
    const mountURL = `${reg.url}/v2/other/blobs/uploads/?mount=${layer}&from=team/app`;
    const targetOnly = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:other:pull,push"], auth: ALICE }));
    const refused = await fetch(mountURL, { method: "POST", headers: { Authorization: `Bearer ${targetOnly.token}` } });
    // one challenge names both scopes a mount needs, as distribution's does
    assert.deepEqual(await challenge(refused), { realm, service: SERVICE, scope: "repository:other:pull,push repository:team/app:pull", error: "insufficient_scope" });
    const both = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:other:pull,push", "repository:team/app:pull"], auth: ALICE }));
    const mounted = await fetch(mountURL, { method: "POST", headers: { Authorization: `Bearer ${both.token}` } });
    assert.equal(mounted.status, 201);
    await mounted.arrayBuffer();

    const cat = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["registry:catalog:*"], auth: ALICE }));
    const catalog = await bearerGet(`${reg.url}/v2/_catalog`, cat.token, "application/json");
    assert.equal(catalog.status, 200);
    assert.ok(((await catalog.json()) as { repositories: string[] }).repositories.includes("team/app"));
  });
});

test("anonymous pull on: anonymous tokens pull but never push", async () => {
  await withRegistry({ anonymousPull: true }, async ({ reg, realm }) => {
    const img = await pushImage(new TestClient(ALICE), reg.url, "app", "v1");
    const anon = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull,push,delete"], extra: { offline_token: "true" } }));
    assert.equal(anon.refresh_token, undefined, "no refresh token for anonymous callers");
    assert.equal(claimsOf(anon.token).sub, "");
    assert.deepEqual(claimsOf(anon.token).access, [{ type: "repository", name: "app", actions: ["pull"] }]);
    const got = await bearerGet(`${reg.url}/v2/app/manifests/v1`, anon.token);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get("docker-content-digest"), img.digest);
    await got.arrayBuffer();

    const put = await fetch(`${reg.url}/v2/app/manifests/v2`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${anon.token}`, "Content-Type": MediaType.ociManifest },
      body: new Uint8Array(img.manifest),
    });
    assert.deepEqual(await challenge(put), { realm, service: SERVICE, scope: "repository:app:pull,push", error: "insufficient_scope" });
    await assert.rejects(pushImage(new TestClient(), reg.url, "app", "v2"), /push blob: 401/);

    const cat = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["registry:catalog:*"] }));
    assert.deepEqual(claimsOf(cat.token).access, []);
    assert.equal((await challenge(await bearerGet(`${reg.url}/v2/_catalog`, cat.token))).error, "insufficient_scope");

    // a plain client pulls anonymously through the challenge
    const client = new TestClient();
    const res = await client.fetch(`${reg.url}/v2/app/manifests/v1`, { headers: { Accept: MediaType.ociManifest } });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
  });
});

test("anonymous pull off: anonymous callers get a token with no access", async () => {
  await withRegistry({ anonymousPull: false }, async ({ reg, realm }) => {
    await pushImage(new TestClient(ALICE), reg.url, "app", "v1");
    const anon = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull"] }));
    assert.deepEqual(claimsOf(anon.token).access, []);
    assert.deepEqual(await challenge(await bearerGet(`${reg.url}/v2/app/manifests/v1`, anon.token)), {
      realm, service: SERVICE, scope: "repository:app:pull", error: "insufficient_scope",
    });
    const base = await bearerGet(`${reg.url}/v2/`, anon.token);
    assert.equal(base.status, 200, "/v2/ only needs a valid token");
    await base.arrayBuffer();
  });
});

test("a pull-only token cannot push: 401 insufficient_scope, and a client recovers with a new token", async () => {
  await withRegistry({ anonymousPull: false }, async ({ reg, realm }) => {
    const pull = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull"], auth: ALICE }));
    const res = await fetch(`${reg.url}/v2/app/blobs/uploads/`, { method: "POST", headers: { Authorization: `Bearer ${pull.token}` } });
    const params = await challenge(res);
    assert.equal(params.error, "insufficient_scope");
    assert.equal(params.scope, "repository:app:pull,push");
    const next = await tokenOf(await getToken(realm, { service: SERVICE, scopes: [params.scope ?? ""], auth: ALICE }));
    const ok = await fetch(`${reg.url}/v2/app/blobs/uploads/`, { method: "POST", headers: { Authorization: `Bearer ${next.token}` } });
    assert.equal(ok.status, 202);
    await ok.arrayBuffer();
    const del = await fetch(`${reg.url}/v2/app/manifests/sha256:${"0".repeat(64)}`, { method: "DELETE", headers: { Authorization: `Bearer ${next.token}` } });
    assert.equal((await challenge(del)).scope, "repository:app:delete");
  });
});

test("expired tokens get invalid_token; a fresh token works", async () => {
  const clock = new FakeClock(Date.now());
  await withRegistry({ anonymousPull: false, clock }, async ({ reg, realm }) => {
    const t = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull"], auth: ALICE }));
    const before = await bearerGet(`${reg.url}/v2/app/tags/list`, t.token, "application/json");
    assert.equal(before.status, 404);
    await before.arrayBuffer();
    clock.step(301_000);
    const after = await challenge(await bearerGet(`${reg.url}/v2/app/tags/list`, t.token));
    assert.deepEqual(after, { realm, service: SERVICE, scope: "repository:app:pull", error: "invalid_token" });
    const fresh = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull"], auth: ALICE }));
    const again = await bearerGet(`${reg.url}/v2/app/tags/list`, fresh.token, "application/json");
    assert.equal(again.status, 404);
    await again.arrayBuffer();
  });
});

test("forged, foreign and refresh tokens are refused as invalid_token", async () => {
  const foreign = createTokenAuth({ realm: "http://elsewhere/token", service: SERVICE, anonymousPull: true, htpasswd: await htpasswd() });
  const foreignServer = await startRegistry({ extraRoutes: { "/auth/token": foreign.tokenEndpoint } });
  try {
    await withRegistry({ anonymousPull: true }, async ({ reg, realm }) => {
      const url = `${reg.url}/v2/app/blobs/uploads/`;
      const post = (token: string): Promise<Response> => fetch(url, { method: "POST", headers: { Authorization: `Bearer ${token}` } });

      const pull = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull"] }));
      const [h, p = "", s] = pull.token.split(".");
      const payload = { ...claimsOf(pull.token), access: [{ type: "repository", name: "app", actions: ["pull", "push"] }] };
      const tampered = `${h}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${s}`;
      assert.equal((await challenge(await post(tampered))).error, "invalid_token");
      assert.equal((await challenge(await post(`${h}.${p}.${"A".repeat(86)}`))).error, "invalid_token");

      // same service and issuer name, different key
      const other = await tokenOf(await getToken(`${foreignServer.url}/auth/token`, { service: SERVICE, scopes: ["repository:app:pull,push"], auth: ALICE }));
      assert.deepEqual(claimsOf(other.token).access, [{ type: "repository", name: "app", actions: ["pull", "push"] }]);
      assert.equal((await challenge(await post(other.token))).error, "invalid_token");

      const offline = await tokenOf(await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull,push"], auth: ALICE, extra: { offline_token: "true", client_id: "docker" } }));
      assert.ok(offline.refresh_token);
      assert.equal((await challenge(await post(offline.refresh_token))).error, "invalid_token", "a refresh token is not an access token");
      const ok = await post(offline.token);
      assert.equal(ok.status, 202);
      await ok.arrayBuffer();
    });
  } finally {
    await foreignServer.close();
  }
});

test("token endpoint: bad credentials 401, wrong service 400, other methods 405, host:port scopes", async () => {
  await withRegistry({ anonymousPull: true }, async ({ realm }) => {
    for (const auth of [basic("alice", "wrong"), basic("mallory", "wonderland"), "Basic !!!"]) {
      const res = await getToken(realm, { service: SERVICE, scopes: ["repository:app:pull"], auth });
      assert.equal(res.status, 401, auth);
      assert.equal(res.headers.get("www-authenticate"), `Basic realm="${SERVICE}"`);
      assert.equal(await errorCode(res), "UNAUTHORIZED");
    }
    const wrongService = await getToken(realm, { service: "docker.io", scopes: ["repository:app:pull"], auth: ALICE });
    assert.equal(wrongService.status, 400);
    assert.match(await wrongService.text(), /unknown service \\"docker.io\\"/);
    const put = await fetch(realm, { method: "PUT" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, HEAD, POST");
    await put.arrayBuffer();

    const t = await tokenOf(await getToken(realm, {
      service: SERVICE,
      scopes: ["repository:127.0.0.1:5000/ns/app:pull,push", "repository:localhost:5000/a:pull repository:b:push", "bogus", "registry:catalog:*"],
      auth: ALICE,
    }));
    assert.deepEqual(claimsOf(t.token).access, [
      { type: "repository", name: "127.0.0.1:5000/ns/app", actions: ["pull", "push"] },
      { type: "repository", name: "localhost:5000/a", actions: ["pull"] },
      { type: "repository", name: "b", actions: ["push"] },
      { type: "registry", name: "catalog", actions: ["*"] },
    ]);
    const noService = await tokenOf(await getToken(realm, { service: "", scopes: [] }));
    assert.deepEqual(claimsOf(noService.token).access, []);
  });
});

test("OAuth2 POST: password grant with refresh token, refresh_token grant, errors", async () => {
  const clock = new FakeClock(Date.now());
  await withRegistry({ anonymousPull: false, clock }, async ({ reg, realm }) => {
    const post = (form: Record<string, string>): Promise<Response> =>
      fetch(realm, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form).toString() });

    const first = await tokenOf(await post({
      grant_type: "password", service: SERVICE, client_id: "containerd-client", access_type: "offline",
      username: "alice", password: "wonderland", scope: "repository:app:pull,push repository:other:pull",
    }));
    assert.equal(first.access_token, first.token);
    assert.equal(first.scope, "repository:app:pull,push repository:other:pull");
    assert.equal(first.expires_in, 300);
    assert.ok(first.refresh_token, "access_type=offline gives a refresh token");
    const upload = await fetch(`${reg.url}/v2/app/blobs/uploads/`, { method: "POST", headers: { Authorization: `Bearer ${first.access_token}` } });
    assert.equal(upload.status, 202);
    await upload.arrayBuffer();

    clock.step(3600_000); // the access token is long dead; the refresh token is not
    const second = await tokenOf(await post({ grant_type: "refresh_token", service: SERVICE, client_id: "containers/image", refresh_token: first.refresh_token, scope: "repository:app:pull" }));
    assert.equal(second.refresh_token, undefined);
    assert.equal(second.scope, "repository:app:pull");
    assert.equal(claimsOf(second.access_token).sub, "alice", "the refresh token is bound to its user");
    const pull = await bearerGet(`${reg.url}/v2/app/tags/list`, second.access_token, "application/json");
    assert.equal(pull.status, 404);
    await pull.arrayBuffer();
    assert.equal((await challenge(await bearerGet(`${reg.url}/v2/app/tags/list`, first.access_token))).error, "invalid_token");

    // a refresh token from the GET flow works the same way
    const docker = await tokenOf(await getToken(realm, { service: SERVICE, scopes: [], auth: basic("bob", "builder"), extra: { offline_token: "true", client_id: "docker" } }));
    const bobs = await tokenOf(await post({ grant_type: "refresh_token", service: SERVICE, refresh_token: docker.refresh_token ?? "", scope: "registry:catalog:*", access_type: "offline" }));
    assert.equal(claimsOf(bobs.token).sub, "bob");
    assert.ok(bobs.refresh_token);

    const refused = async (form: Record<string, string>, status: number): Promise<void> => {
      const res = await post(form);
      assert.equal(res.status, status, JSON.stringify(form));
      await res.arrayBuffer();
    };
    await refused({ grant_type: "password", service: SERVICE, username: "alice", password: "nope", scope: "" }, 401);
    await refused({ grant_type: "password", service: SERVICE, username: "alice" }, 400);
    await refused({ grant_type: "refresh_token", service: SERVICE, refresh_token: first.access_token }, 401);
    await refused({ grant_type: "refresh_token", service: SERVICE, refresh_token: "garbage" }, 401);
    await refused({ grant_type: "refresh_token", service: SERVICE }, 400);
    await refused({ grant_type: "client_credentials", service: SERVICE }, 400);
    await refused({ grant_type: "password", service: "elsewhere", username: "alice", password: "wonderland" }, 400);

    clock.step(31 * 24 * 3600_000);
    await refused({ grant_type: "refresh_token", service: SERVICE, refresh_token: first.refresh_token ?? "" }, 401);
  });
});

test("refresh tokens die with their user; a token server without users issues only anonymous tokens", async () => {
  const signer = TokenSigner.generate();
  const both = await htpasswd();
  const bobOnly = Htpasswd.parse((await htpasswdLine("bob", "builder")).line);
  const opts = { signer, service: SERVICE, issuer: "iss", anonymousPull: true };
  const withAlice = new TokenServer({ ...opts, htpasswd: both });
  const withoutAlice = new TokenServer({ ...opts, htpasswd: bobOnly });
  const noUsers = new TokenServer(opts);
  const reg = await startRegistry({ extraRoutes: { "/a": withAlice.handle, "/b": withoutAlice.handle, "/none": noUsers.handle } });
  try {
    const t = await tokenOf(await getToken(`${reg.url}/a`, { service: SERVICE, auth: ALICE, extra: { offline_token: "true" } }));
    const form = new URLSearchParams({ grant_type: "refresh_token", service: SERVICE, refresh_token: t.refresh_token ?? "" });
    const ok = await fetch(`${reg.url}/a`, { method: "POST", body: form });
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
    const gone = await fetch(`${reg.url}/b`, { method: "POST", body: form });
    assert.equal(gone.status, 401);
    assert.match(await gone.text(), /no longer exists/);

    const anon = await tokenOf(await getToken(`${reg.url}/none`, { service: SERVICE, scopes: ["repository:x:pull,push"] }));
    assert.deepEqual(claimsOf(anon.token).access, [{ type: "repository", name: "x", actions: ["pull"] }]);
    const creds = await getToken(`${reg.url}/none`, { service: SERVICE, auth: ALICE });
    assert.equal(creds.status, 401);
    await creds.arrayBuffer();
  } finally {
    await reg.close();
  }
});

test("grantAccess intersects requested with allowed", () => {
  const repo = (name: string, ...actions: string[]): Access => ({ type: "repository", name, actions });
  const catalog: Access = { type: "registry", name: "catalog", actions: ["*"] };
  const asked = [repo("a", "pull", "push", "delete", "bogus"), repo("a", "pull", "*"), catalog, { type: "registry", name: "other", actions: ["*"] } as Access];
  assert.deepEqual(grantAccess(asked, { user: "alice", anonymousPull: false }), [repo("a", "pull", "push", "delete", "*"), catalog]);
  assert.deepEqual(grantAccess(asked, { user: undefined, anonymousPull: true }), [repo("a", "pull")]);
  assert.deepEqual(grantAccess(asked, { user: undefined, anonymousPull: false }), []);
  assert.deepEqual(grantAccess([], { user: "alice", anonymousPull: true }), []);
});

test("token lifetimes under 60 s are refused", () => {
  const signer = TokenSigner.generate();
  assert.throws(() => new TokenServer({ signer, service: SERVICE, issuer: "iss", anonymousPull: false, ttlSeconds: 30 }), (err: Error) => isInvalidArgument(err) && /at least 60/.test(err.message));
  assert.throws(() => createTokenAuth({ realm: "x", service: SERVICE, anonymousPull: false, ttlSeconds: 300, refreshTtlSeconds: 100 }), /refresh token lifetime/);
  assert.throws(() => createTokenAuth({ realm: "x", service: SERVICE, anonymousPull: false, signingKey: "nope" }), /cannot parse PEM/);
});
