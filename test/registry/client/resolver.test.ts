import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { errorClass, isInvalidArgument } from "../../../src/errdefs/index.js";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { parseNormalizedNamed } from "../../../src/reference/index.js";
import {
  CredentialStore,
  defaultCredentialProvider,
  DockerConfigProvider,
  RegistryClient,
  RegistryHosts,
  Resolver,
  type FetchLike,
} from "../../../src/registry/client/index.js";
import { BasicAuthorizer, createTokenAuth, Htpasswd } from "../../../src/registry/server/index.js";
import { pushImage, startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { collect, deadHost } from "./fixtures.js";

function htpasswd(user: string, password: string): Htpasswd {
  return Htpasswd.parse(`${user}:${bcrypt.hashSync(password, 4)}\n`);
}

const hostOf = (r: TestRegistry): string => new URL(r.url).host;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** A fetch that records `METHOD host path` of every request. */
function recordingFetch(log: string[], bodies: string[] = []): FetchLike {
  return (input, init) => {
    const url = new URL(input.toString());
    log.push(`${init?.method ?? "GET"} ${url.host} ${url.pathname}`);
    if (typeof init?.body === "string") bodies.push(init.body);
    return fetch(input, init);
  };
}

/** Pushes a small image through an authenticated client. */
async function pushWith(client: RegistryClient, repo: string, tag: string, layer: string): Promise<{ digest: string; layer: string }> {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  const layerBytes = Buffer.from(layer);
  await client.pushBlob(repo, config);
  await client.pushBlob(repo, layerBytes);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: MediaType.ociLayerGzip, digest: digestOf(layerBytes), size: layerBytes.length }],
  }));
  return { digest: await client.putManifest(repo, tag, manifest, MediaType.ociManifest), layer: digestOf(layerBytes) };
}

test("pull through a Basic-auth mirror with credentials from Docker's config.json", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-resolver-"));
  const mirror = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: htpasswd("alice", "wonderland"), realm: "podyard" }) });
  try {
    const mirrorHost = hostOf(mirror);
    const img = await pushWith(new RegistryClient({ baseUrl: mirror.url, credentials: { username: "alice", password: "wonderland" } }), "library/app", "v1", "mirrored layer");
    const upstream = await deadHost(); // the mirror alone can serve
    const configPath = join(dir, "config.json");
    await writeFile(configPath, JSON.stringify({ auths: { [`http://${mirrorHost}`]: { auth: b64("alice:wonderland") } } }));
    const hosts = new RegistryHosts({ [upstream]: { mirrors: [{ url: mirror.url }] } });
    const log: string[] = [];
    const resolver = new Resolver({ hosts, credentials: new DockerConfigProvider({ path: configPath }), fetch: recordingFetch(log), maxAttempts: 1 });
    const puller = resolver.puller(parseNormalizedNamed(`${upstream}/library/app:v1`));
    const desc = await puller.resolve();
    assert.equal(desc.digest, img.digest);
    assert.equal(puller.servedBy?.host, mirrorHost);
    const manifest = JSON.parse((await puller.getManifest(desc.digest)).bytes.toString()) as { layers: { digest: `sha256:${string}` }[] };
    const layerDigest = manifest.layers[0]?.digest;
    assert.ok(layerDigest);
    assert.equal((await collect(await puller.fetchBlob(layerDigest))).toString(), "mirrored layer");
    assert.ok(log.every((l) => l.includes(mirrorHost)), `only the mirror was asked: ${log.join(", ")}`);

    // without credentials the mirror refuses, the upstream is down: both are named
    const anonymous = new Resolver({ hosts, maxAttempts: 1 }).puller(parseNormalizedNamed(`${upstream}/library/app:v1`));
    await assert.rejects(anonymous.resolve(), (err: Error) => {
      assert.equal(errorClass(err), "Unavailable");
      assert.ok(err.message.startsWith(`pull ${upstream}/library/app:v1: registry ${upstream} is unreachable: connect ECONNREFUSED ${upstream} (also tried `), err.message);
      assert.ok(err.message.includes(`unauthorized: registry ${mirrorHost} refused to let the client pull manifest for library/app:v1`), err.message);
      return true;
    });

    // a wrong password in config.json is Unauthenticated when the mirror is the only endpoint
    await writeFile(configPath, JSON.stringify({ auths: { [mirrorHost]: { username: "alice", password: "wrong" } } }));
    const direct = new Resolver({ credentials: new DockerConfigProvider({ path: configPath }) }).puller(parseNormalizedNamed(`${mirrorHost}/library/app:v1`));
    await assert.rejects(direct.resolve(), (err: Error) => errorClass(err) === "Unauthenticated" && err.message.startsWith(`pull ${mirrorHost}/library/app:v1: unauthorized:`));
  } finally {
    await mirror.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("credentials given in the hosts configuration win over the lookup", async () => {
  const mirror = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: htpasswd("ci", "pipeline"), realm: "podyard" }) });
  try {
    const img = await pushWith(new RegistryClient({ baseUrl: mirror.url, credentials: { username: "ci", password: "pipeline" } }), "app", "v1", "x");
    const upstream = await deadHost();
    const hosts = new RegistryHosts({ [upstream]: { mirrors: [{ url: mirror.url, credentials: { username: "ci", password: "pipeline" } }] } });
    const lookups: string[] = [];
    const resolver = new Resolver({ hosts, credentials: { lookup: (h) => (lookups.push(h), Promise.resolve(undefined)) } });
    assert.equal((await resolver.puller(parseNormalizedNamed(`${upstream}/app:v1`)).resolve()).digest, img.digest);
    assert.deepEqual(lookups, []);
  } finally {
    await mirror.close();
  }
});

test("an identity token from config.json is traded with a refresh_token POST", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-resolver-"));
  let realm = "";
  const auth = createTokenAuth({ realm: () => realm, service: "podyard-test", htpasswd: htpasswd("alice", "wonderland"), anonymousPull: false });
  const reg = await startRegistry({ authorizer: auth.authorizer, extraRoutes: { "/auth/token": auth.tokenEndpoint } });
  try {
    realm = `${reg.url}/auth/token`;
    const host = hostOf(reg);
    await pushWith(new RegistryClient({ baseUrl: reg.url, credentials: { username: "alice", password: "wonderland" } }), "team/app", "v1", "tokened");
    // log in the OAuth2 way for a refresh token, as `docker login` does
    const res = await fetch(realm, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", username: "alice", password: "wonderland", service: "podyard-test", client_id: "test", access_type: "offline" }).toString(),
    });
    const refresh = ((await res.json()) as { refresh_token?: string }).refresh_token;
    assert.ok(refresh);
    const configPath = join(dir, "config.json");
    await writeFile(configPath, JSON.stringify({ auths: { [host]: { identitytoken: refresh } } }));
    const log: string[] = [];
    const bodies: string[] = [];
    const resolver = new Resolver({ credentials: new DockerConfigProvider({ path: configPath }), fetch: recordingFetch(log, bodies) });
    const puller = resolver.puller(parseNormalizedNamed(`${host}/team/app:v1`));
    const m = await puller.getManifest();
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.ok(log.includes(`POST ${host} /auth/token`), log.join(", "));
    assert.ok(!log.some((l) => l.startsWith(`GET ${host} /auth/token`)), log.join(", "));
    const form = new URLSearchParams(bodies[0]);
    assert.equal(form.get("grant_type"), "refresh_token");
    assert.equal(form.get("refresh_token"), refresh);
    assert.equal(form.get("client_id"), "podyard");
    assert.equal(form.get("service"), "podyard-test");
    assert.equal(form.get("scope"), "repository:team/app:pull");

    // a token the server does not know is refused with advice
    await writeFile(configPath, JSON.stringify({ auths: { [host]: { identitytoken: "not-a-token" } } }));
    const bad = new Resolver({ credentials: new DockerConfigProvider({ path: configPath }) }).puller(parseNormalizedNamed(`${host}/team/app:v1`));
    await assert.rejects(bad.resolve(), (err: Error) =>
      errorClass(err) === "Unauthenticated" && err.message.includes("refused the identity token") && err.message.includes("log in again"));
  } finally {
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("blobs come first from the endpoint that served the manifest", async () => {
  const upstream = await startRegistry();
  const mirror = await startRegistry();
  try {
    const img = await pushImage(upstream.url, "team/app", "v1", ["shared"]);
    await pushImage(mirror.url, "team/app", "v1", ["shared"]);
    const up = hostOf(upstream);
    // the mirror may serve content but not resolve tags: the upstream resolves, so it serves the blobs too
    const hosts = new RegistryHosts({ [up]: { mirrors: [{ url: mirror.url, capabilities: ["pull"] }] } });
    const log: string[] = [];
    const puller = new Resolver({ hosts, fetch: recordingFetch(log) }).puller(parseNormalizedNamed(`${up}/team/app:v1`));
    assert.equal((await puller.resolve()).digest, img.digest);
    assert.equal(puller.servedBy?.host, up);
    const layer = img.layers[0];
    assert.ok(layer);
    assert.equal((await collect(await puller.fetchBlob(layer))).toString(), "shared");
    assert.ok(log.every((l) => l.includes(up)), log.join(", "));

    // a fresh puller asking by digest goes to the mirror first
    log.length = 0;
    const byDigest = new Resolver({ hosts, fetch: recordingFetch(log) }).puller(parseNormalizedNamed(`${up}/team/app@${img.digest}`));
    await byDigest.getManifest();
    assert.equal(byDigest.servedBy?.host, hostOf(mirror));
    assert.equal((await collect(await byDigest.fetchBlob(layer))).toString(), "shared");
    assert.ok(log.every((l) => l.includes(hostOf(mirror))), log.join(", "));
  } finally {
    await mirror.close();
    await upstream.close();
  }
});

test("pusher: the upstream's client with the podyard login; clients are cached per endpoint and credentials", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-resolver-"));
  const reg = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: htpasswd("bob", "builder"), realm: "podyard" }) });
  const mirror = await startRegistry();
  try {
    const host = hostOf(reg);
    const storePath = join(dir, "auth.json");
    const store = new CredentialStore({ path: storePath });
    await store.login(host, { username: "bob", password: "builder" });
    const hosts = new RegistryHosts({ [host]: { mirrors: [{ url: mirror.url }] } });
    const resolver = new Resolver({ hosts, credentials: defaultCredentialProvider({ storePath, dockerConfigPath: join(dir, "none.json"), env: {} }) });
    const ref = parseNormalizedNamed(`${host}/team/pushed:v1`);
    const pusher = await resolver.pusher(ref);
    assert.equal(pusher.host, host);
    assert.equal(pusher.baseUrl.href, `${reg.url}/`);
    const pushed = await pushWith(pusher, ref.path, "v1", "pushed layer");
    // the mirror does not have it; the pull falls back to the upstream with the same login
    const puller = resolver.puller(ref);
    assert.equal((await puller.resolve()).digest, pushed.digest);
    assert.equal(puller.servedBy?.mirror, false);
    assert.equal(await resolver.pusher(ref), pusher, "one client per endpoint and credentials");
    await store.login(host, { username: "bob", password: "changed" });
    assert.notEqual(await resolver.pusher(ref), pusher, "new credentials, new client");
  } finally {
    await mirror.close();
    await reg.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("bad requests do not fall back; skipVerify needs an insecureFetch; references need a registry", async () => {
  const upstream = await startRegistry();
  const mirror = await startRegistry();
  try {
    const up = hostOf(upstream);
    const img = await pushImage(upstream.url, "app", "v1");
    const log: string[] = [];
    const hosts = new RegistryHosts({ [up]: { mirrors: [{ url: mirror.url, skipVerify: true }] } });
    const puller = new Resolver({ hosts, fetch: recordingFetch(log) }).puller(parseNormalizedNamed(`${up}/app:v1`));
    // the mirror cannot be used without a TLS-skipping fetch: passed over
    assert.equal((await puller.resolve()).digest, img.digest);
    assert.equal(puller.servedBy?.host, up);
    assert.ok(log.every((l) => l.includes(up)), log.join(", "));
    await assert.rejects(puller.getManifest("not a tag!"), (err: Error) => isInvalidArgument(err) && err.message.startsWith(`pull ${up}/app:v1:`));
    assert.throws(() => new Resolver().puller({ domain: "", path: "app", name: "app", toString: () => "app" }), isInvalidArgument);
  } finally {
    await mirror.close();
    await upstream.close();
  }
});
