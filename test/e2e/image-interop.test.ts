/**
 * podyard's image service and CLI against Debian's docker-registry 2.8.2 (CNCF
 * distribution) and skopeo 1.9:
 *
 * 1. htpasswd auth: pull refused without login (naming the registry), login through the
 *    credential store and `podyard login`, push of a re-tagged image, `skopeo copy` back
 *    byte for byte;
 * 2. distribution's token auth served by podyard's token server, with an `x5c` chain and
 *    with a libtrust `kid` (anonymous pull, pull and push with credentials);
 * 3. images pushed by skopeo (OCI, Docker schema 2, zstd) and a multi-arch index with an
 *    attestation, pulled by podyard;
 * 4. the docker-style output and error messages of `podyard pull|push|images|inspect`.
 *
 * Every test starts its own docker-registry in a temp dir and stops it (by its process
 * handle) and removes its dirs afterwards. skopeo and the podyard CLI run with a scratch
 * HOME; as root, `_CONTAINERS_ROOTLESS_UID` keeps containers/image's caches under it.
 */
import { after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestEncoded, digestOf, MediaType, type Digest, type ImageManifest, type Platform } from "../../src/oci/index.js";
import { hostPlatform } from "../../src/oci/index.js";
import { RegistryClient, type Credentials } from "../../src/registry/client/index.js";
import { createTokenAuth, Htpasswd } from "../../src/registry/server/auth/index.js";
import { keyID, libtrustKeyID } from "../../src/registry/server/auth/token.js";
import { chainID } from "../../src/store/index.js";
import { distributionMissing, freePort, startDistribution, type Distribution, type DistributionOptions } from "../helpers/distribution.js";
import { toolEnv } from "../helpers/containers-env.js";
import { inspectImage } from "../../src/cli/image/inspect-image.js";
import { layoutBlobPath, openTestNode, sharedSourceImage, type SourceImage, type TestNode } from "../helpers/images.js";
import { describeRun, haveTool, killLeftoverChildren, runOk, runTool, type RunResult } from "../helpers/run-tool.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PODYARD_BIN = join(REPO_ROOT, "bin", "podyard.js");
const USER = "interop";
const PASSWORD = "s3cret-Pass";
const CREDS: Credentials = { username: USER, password: PASSWORD };
const SERVICE = "podyard-interop-registry";
const ISSUER = "podyard-interop-issuer";
const RUN_TIMEOUT_MS = 60_000;
const MOTD = "hello from layer two\n";

// ---------------------------------------------------------------------------
// child processes: each one is tracked and, if still alive at the end, killed through its own handle

after(killLeftoverChildren);

function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer; cwd?: string } = {}): Promise<RunResult> {
  return runTool(cmd, args, { cwd: REPO_ROOT, timeoutMs: RUN_TIMEOUT_MS, ...opts });
}

const report = describeRun;

function ok(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<RunResult> {
  return runOk(cmd, args, { cwd: REPO_ROOT, timeoutMs: RUN_TIMEOUT_MS, ...opts });
}

// ---------------------------------------------------------------------------
// temp dirs, nodes, registries: each removed or stopped when its test ends

async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }));
  return dir;
}

async function testNode(t: TestContext): Promise<TestNode> {
  const node = await openTestNode();
  t.after(() => node.close());
  return node;
}

/** A docker-registry for this test, or undefined (and the test skipped) when it is not installed. */
async function distribution(t: TestContext, opts: DistributionOptions = {}, dir?: string): Promise<Distribution | undefined> {
  const missing = await distributionMissing();
  if (missing !== undefined) {
    t.skip(missing);
    return undefined;
  }
  const d = await startDistribution(dir ?? (await tempDir(t, "podyard-dist")), opts);
  t.after(() => d.stop());
  return d;
}

async function htpasswdFile(t: TestContext): Promise<string | undefined> {
  if (!(await haveTool(t, "htpasswd", "apt-get install apache2-utils"))) return undefined;
  const dir = await tempDir(t, "podyard-htpasswd");
  const line = (await ok("htpasswd", ["-Bbn", USER, PASSWORD])).stdout.trim();
  const file = join(dir, "htpasswd");
  await writeFile(file, `${line}\n`);
  return file;
}

// ---------------------------------------------------------------------------
// the source image: the tutorial's busybox OCI layout plus a layer with /etc/motd, built once

type Source = SourceImage;

const sourceImage = sharedSourceImage({
  prefix: "podyard-image-interop-src",
  extraLayers: [{ entries: [{ type: "file", path: "etc/motd", content: Buffer.from(MOTD), mode: 0o644 }], createdBy: "COPY motd /etc/motd" }],
});
after(() => sourceImage.remove());

function source(t: TestContext): Promise<Source | undefined> {
  return sourceImage.get(t);
}

const blobPath = layoutBlobPath;

/** Pushes the source layout as `repo:tag` with podyard's registry client (credentials optional). */
async function pushSource(url: string, repo: string, tag: string, src: Source, credentials?: Credentials): Promise<void> {
  const client = new RegistryClient({ baseUrl: url, ...(credentials ? { credentials } : {}) });
  for (const d of [src.built.manifest.config, ...src.built.manifest.layers]) {
    await client.pushBlob(repo, createReadStream(blobPath(src.dir, d.digest)), { digest: d.digest, size: d.size });
  }
  await client.putManifest(repo, tag, await readFile(blobPath(src.dir, src.manifestDigest)), src.built.manifestDescriptor.mediaType);
}

// ---------------------------------------------------------------------------
// raw pushes with fetch, for what podyard's own client would not build (indexes, attestations, zstd)

/** POST an upload, then PUT its Location with the digest (distribution 2.8 has no single-POST upload). */
async function rawPushBlob(url: string, repo: string, bytes: Buffer): Promise<{ digest: Digest; size: number }> {
  const digest = digestOf(bytes);
  const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: "POST" });
  await start.arrayBuffer();
  assert.equal(start.status, 202, `POST upload for ${repo}`);
  const location = new URL(start.headers.get("location") ?? "", url);
  location.searchParams.set("digest", digest);
  const put = await fetch(location, { method: "PUT", headers: { "Content-Type": "application/octet-stream" }, body: new Uint8Array(bytes) });
  assert.equal(put.status, 201, `PUT blob ${digest}: ${await put.text()}`);
  return { digest, size: bytes.length };
}

async function rawPutManifest(url: string, repo: string, ref: string, body: unknown, mediaType: string): Promise<{ digest: Digest; size: number }> {
  const bytes = Buffer.from(JSON.stringify(body));
  const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: "PUT", headers: { "Content-Type": mediaType }, body: new Uint8Array(bytes) });
  assert.equal(res.status, 201, `PUT manifest ${repo}:${ref}: ${await res.text()}`);
  assert.equal(res.headers.get("docker-content-digest"), digestOf(bytes));
  return { digest: digestOf(bytes), size: bytes.length };
}

async function getManifest(url: string, repo: string, ref: string): Promise<{ mediaType: string | null; body: ImageManifest }> {
  const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, {
    headers: { Accept: [MediaType.ociManifest, MediaType.dockerManifest].join(", ") },
  });
  assert.equal(res.status, 200, `GET manifest ${repo}:${ref}`);
  return { mediaType: res.headers.get("content-type"), body: JSON.parse(await res.text()) as ImageManifest };
}

interface MultiArch {
  index: Digest;
  host: { platform: Platform; manifest: Digest };
  other: { platform: Platform; manifest: Digest; config: Digest };
}

/**
 * Pushes `repo:tag` as an OCI index: the source image for this node's platform, the same
 * layers under a config relabelled for another architecture, and a BuildKit-style
 * `unknown/unknown` attestation manifest. Child manifests go in by digest.
 */
async function pushMultiArch(url: string, repo: string, tag: string, src: Source): Promise<MultiArch> {
  await pushSource(url, repo, `${tag}-host`, src);
  const host = hostPlatform();
  const other: Platform = { os: "linux", architecture: host.architecture === "arm64" ? "amd64" : "arm64" };

  const otherConfig = await rawPushBlob(url, repo, Buffer.from(JSON.stringify({ ...src.built.config, architecture: other.architecture, os: other.os })));
  const otherBody = { ...src.built.manifest, config: { mediaType: MediaType.ociConfig, ...otherConfig } };
  const otherM = await rawPutManifest(url, repo, manifestDigestFor(otherBody), otherBody, MediaType.ociManifest);

  const statement = Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v0.1", predicateType: "https://spdx.dev/Document", subject: [], predicate: {} }));
  const attLayer = await rawPushBlob(url, repo, statement);
  const attConfig = await rawPushBlob(url, repo, Buffer.from(JSON.stringify({
    architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: [attLayer.digest] },
  })));
  const attBody = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...attConfig },
    layers: [{ mediaType: "application/vnd.in-toto+json", ...attLayer, annotations: { "in-toto.io/predicate-type": "https://spdx.dev/Document" } }],
  };
  const att = await rawPutManifest(url, repo, manifestDigestFor(attBody), attBody, MediaType.ociManifest);

  const index = await rawPutManifest(url, repo, tag, {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: src.manifestDigest, size: src.built.manifestDescriptor.size, platform: host },
      { mediaType: MediaType.ociManifest, ...otherM, platform: other },
      {
        mediaType: MediaType.ociManifest, ...att, platform: { os: "unknown", architecture: "unknown" },
        annotations: { "vnd.docker.reference.digest": src.manifestDigest, "vnd.docker.reference.type": "attestation-manifest" },
      },
    ],
  }, MediaType.ociIndex);
  return { index: index.digest, host: { platform: host, manifest: src.manifestDigest }, other: { platform: other, manifest: otherM.digest, config: otherConfig.digest } };
}

/** The digest rawPutManifest's bytes will have, to PUT a manifest by digest. */
function manifestDigestFor(body: unknown): Digest {
  return digestOf(Buffer.from(JSON.stringify(body)));
}

// ---------------------------------------------------------------------------
// tools: skopeo and the podyard CLI, each with a scratch HOME

async function scratchEnv(t: TestContext, extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const { env } = await toolEnv(await tempDir(t, "podyard-tool-env"));
  return { ...env, ...extra };
}

interface Tool {
  run(args: readonly string[], input?: string): Promise<RunResult>;
  ok(args: readonly string[], input?: string): Promise<RunResult>;
  /** a non-zero exit, whose output is returned for the caller's checks */
  fails(args: readonly string[], input?: string): Promise<RunResult>;
}

function tool(cmd: string, prefix: readonly string[], env: NodeJS.ProcessEnv): Tool {
  const runIt = (args: readonly string[], input?: string): Promise<RunResult> => run(cmd, [...prefix, ...args], { env, ...(input !== undefined ? { input } : {}) });
  return {
    run: runIt,
    ok: async (args, input) => {
      const r = await runIt(args, input);
      assert.equal(r.code, 0, report(cmd, [...prefix, ...args], r));
      return r;
    },
    fails: async (args, input) => {
      const r = await runIt(args, input);
      assert.notEqual(r.code, 0, `expected a failure: ${report(cmd, [...prefix, ...args], r)}`);
      return r;
    },
  };
}

async function skopeo(t: TestContext): Promise<Tool | undefined> {
  if (!(await haveTool(t, "skopeo", "apt-get install skopeo"))) return undefined;
  return tool("skopeo", ["--insecure-policy"], await scratchEnv(t));
}

/** `node bin/podyard.js` with its own PODYARD_HOME (and HOME). */
async function podyardCli(t: TestContext): Promise<Tool & { home: string }> {
  const home = await tempDir(t, "podyard-cli-home");
  return { home, ...tool(process.execPath, [PODYARD_BIN], await scratchEnv(t, { PODYARD_HOME: home })) };
}

// ---------------------------------------------------------------------------
// snapshots: read a file of a pulled image through a view of its top layer

async function readFromImage(node: TestNode, diffIDs: readonly Digest[], path: string): Promise<Buffer> {
  const top = chainID(diffIDs);
  const names = (await node.env.snapshotter.walk()).filter((s) => s.kind === "committed").map((s) => s.name);
  assert.ok(names.includes(top), `committed snapshot ${top} for the image's top layer; have ${names.join(", ")}`);
  const key = `image-interop-check-${process.pid}-${Date.now()}`;
  const mounts = await node.env.snapshotter.view(key, top);
  try {
    const dirs = mounts.flatMap((m) => (m.type === "bind" ? [m.source] : (m.options.find((o) => o.startsWith("lowerdir="))?.slice("lowerdir=".length).split(":") ?? [])));
    for (const dir of dirs) {
      try {
        return await readFile(join(dir, path));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    throw new Error(`${path} is in none of the view's layers: ${dirs.join(", ")}`);
  } finally {
    await node.env.snapshotter.remove(key);
  }
}

// ===========================================================================
// 1. htpasswd

void test("docker-registry with htpasswd: pull refused without login, naming the registry; works after login (credential store and `podyard login`)", async (t) => {
  const src = await source(t);
  if (!src) return;
  const htpasswd = await htpasswdFile(t);
  if (htpasswd === undefined) return;
  const d = await distribution(t, { auth: { htpasswd: { realm: "podyard-interop", path: htpasswd } } });
  if (!d) return;
  await pushSource(d.url, "private/busybox", "v1", src, CREDS);
  const ref = `${d.host}/private/busybox:v1`;

  // the image service
  const node = await testNode(t);
  await assert.rejects(node.env.imageService.pull(ref), (err: Error) => {
    assert.match(err.message, /unauthorized/i);
    assert.ok(err.message.includes(d.host), `the error names the registry ${d.host}: ${err.message}`);
    return true;
  });
  await node.env.logins.login(d.host, CREDS);
  const pulled = await node.env.imageService.pull(ref);
  assert.equal(pulled.digest, src.manifestDigest);
  assert.equal(pulled.configDigest, src.configDigest);

  // the CLI
  const cli = await podyardCli(t);
  const denied = await cli.fails(["pull", ref]);
  t.diagnostic(`podyard stderr: ${denied.stderr.trim()}`);
  assert.match(denied.stderr, /unauthorized/i, report("podyard", ["pull", ref], denied));
  assert.ok(denied.stderr.includes(d.host), `the error names the registry: ${denied.stderr}`);
  const wrong = await cli.fails(["login", "--username", USER, "--password-stdin", d.host], "wrong-password\n");
  assert.match(wrong.stderr, /unauthorized/i, wrong.stderr);
  const login = await cli.ok(["login", "--username", USER, "--password-stdin", d.host], `${PASSWORD}\n`);
  assert.match(login.stdout, /Login Succeeded/);
  const auths = (JSON.parse(await readFile(join(cli.home, "auth.json"), "utf8")) as { auths?: Record<string, unknown> }).auths ?? {};
  assert.ok(d.host in auths, `auth.json has ${d.host}: ${JSON.stringify(Object.keys(auths))}`);
  const cliPull = await cli.ok(["pull", ref]);
  assert.match(cliPull.stdout, new RegExp(`Digest: ${src.manifestDigest}`));
});

void test("docker-registry with htpasswd: podyard pushes a re-tagged image; skopeo copies it back with identical manifest, config and layer bytes", async (t) => {
  const src = await source(t);
  if (!src) return;
  const sk = await skopeo(t);
  if (!sk) return;
  const htpasswd = await htpasswdFile(t);
  if (htpasswd === undefined) return;
  const d = await distribution(t, { auth: { htpasswd: { realm: "podyard-interop", path: htpasswd } } });
  if (!d) return;
  await pushSource(d.url, "private/busybox", "v1", src, CREDS);
  const node = await testNode(t);
  await node.env.logins.login(d.host, CREDS);
  await node.env.imageService.pull(`${d.host}/private/busybox:v1`);

  const target = `${d.host}/copies/busybox:pushed`;
  node.env.imageService.tag(`${d.host}/private/busybox:v1`, target);
  const pushed = await node.env.imageService.push(target);
  assert.equal(pushed.digest, src.manifestDigest, "the stored manifest is pushed unchanged");
  assert.equal(pushed.size, src.built.manifestDescriptor.size);

  const out = join(await tempDir(t, "podyard-skopeo-out"), "layout");
  await sk.ok(["copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", `${USER}:${PASSWORD}`, `docker://${target}`, `oci:${out}:pushed`]);
  const index = JSON.parse(await readFile(join(out, "index.json"), "utf8")) as { manifests: { digest: string }[] };
  assert.deepEqual(index.manifests.map((m) => m.digest), [src.manifestDigest]);
  for (const digest of [src.manifestDigest, src.configDigest, ...src.layerDigests]) {
    const want = await readFile(blobPath(src.dir, digest));
    const got = await readFile(blobPath(out, digest));
    assert.ok(got.equals(want), `blob ${digest}: ${got.length} bytes back, ${want.length} in the source`);
  }
});

// ===========================================================================
// 2. token auth: docker-registry trusting podyard's token server

interface TokenSetup {
  d: Distribution;
  /** the token endpoint's URL */
  realm: string;
  keyPem: string;
  certPem: string;
  /** swaps the token server behind the realm */
  use(opts: { kidFormat?: "jwk-thumbprint" | "libtrust"; x5c?: boolean; anonymousPull: boolean; signingKey?: "configured" | "rogue" }): void;
}

async function tokenSetup(t: TestContext): Promise<TokenSetup | undefined> {
  if (!(await haveTool(t, "openssl", "apt-get install openssl"))) return undefined;
  const htpasswd = await htpasswdFile(t);
  if (htpasswd === undefined) return undefined;
  const dir = await tempDir(t, "podyard-token");
  const keyPath = join(dir, "token-key.pem");
  const certPath = join(dir, "token-cert.pem");
  await ok("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-keyout", keyPath, "-out", certPath, "-days", "2", "-subj", "/CN=podyard interop token signer",
  ]);
  const keyPem = await readFile(keyPath, "utf8");
  const certPem = await readFile(certPath, "utf8");
  const users = await Htpasswd.load(htpasswd);

  type Endpoint = ReturnType<typeof createTokenAuth>["tokenEndpoint"];
  let endpoint: Endpoint | undefined;
  const server: Server = createServer((req, res) => {
    if (endpoint === undefined || !req.url?.startsWith("/auth/token")) {
      res.writeHead(404).end();
      return;
    }
    void endpoint(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  const addr = server.address();
  assert.ok(addr !== null && typeof addr === "object");
  const realm = `http://127.0.0.1:${addr.port}/auth/token`;

  const storage = await tempDir(t, "podyard-dist");
  await writeFile(join(storage, "rootcerts.pem"), certPem);
  const d = await distribution(t, {
    auth: { token: { realm, service: SERVICE, issuer: ISSUER, rootcertbundle: join(storage, "rootcerts.pem") } },
  }, storage);
  if (!d) return undefined;
  return {
    d,
    realm,
    keyPem,
    certPem,
    use: (opts) => {
      endpoint = createTokenAuth({
        realm,
        service: SERVICE,
        issuer: ISSUER,
        htpasswd: users,
        anonymousPull: opts.anonymousPull,
        ...(opts.signingKey === "rogue" ? {} : { signingKey: keyPem }),
        ...(opts.kidFormat ? { kidFormat: opts.kidFormat } : {}),
        ...(opts.x5c ? { x5c: certPem } : {}),
      }).tokenEndpoint;
    },
  };
}

/** The header of a token the realm hands out (anonymously, for the catalog-less `/v2/` check). */
async function tokenHeader(realm: string): Promise<{ alg: string; kid: string; x5c?: string[] }> {
  const res = await fetch(`${realm}?service=${SERVICE}`);
  assert.equal(res.status, 200);
  const { token } = (await res.json()) as { token: string };
  return JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString("utf8")) as { alg: string; kid: string; x5c?: string[] };
}

function unauthorizedFor(host: string): (err: Error) => boolean {
  return (err) => {
    assert.match(err.message, /unauthorized/i);
    assert.ok(err.message.includes(host), `the error names the registry ${host}: ${err.message}`);
    return true;
  };
}

void test("docker-registry with token auth, tokens carrying an x5c chain: anonymous pull, push refused then allowed after login", async (t) => {
  const src = await source(t);
  if (!src) return;
  const ts = await tokenSetup(t);
  if (!ts) return;
  const { d } = ts;
  ts.use({ x5c: true, anonymousPull: true });
  const header = await tokenHeader(ts.realm);
  assert.equal(header.alg, "ES256");
  assert.deepEqual(header.x5c, [new X509Certificate(ts.certPem).raw.toString("base64")], "x5c holds the certificate, base64 DER");
  assert.match(header.kid, /^[A-Za-z0-9_-]{43}$/, "the kid stays the JWK thumbprint: distribution must use x5c");

  await pushSource(d.url, "token/busybox", "v1", src, CREDS).catch((err: Error) => {
    throw new Error(`seeding with credentials failed: ${err.message}\ndocker-registry log:\n${d.log()}`, { cause: err });
  });

  const node = await testNode(t);
  const pulled = await node.env.imageService.pull(`${d.host}/token/busybox:v1`).catch((err: Error) => {
    throw new Error(`anonymous pull failed: ${err.message}\ndocker-registry log:\n${d.log()}`, { cause: err });
  });
  assert.equal(pulled.digest, src.manifestDigest);
  assert.equal(pulled.configDigest, src.configDigest);

  const target = `${d.host}/token/pushed:v2`;
  node.env.imageService.tag(`${d.host}/token/busybox:v1`, target);
  await assert.rejects(node.env.imageService.push(target), unauthorizedFor(d.host));
  await node.env.logins.login(d.host, CREDS);
  const pushed = await node.env.imageService.push(target);
  assert.equal(pushed.digest, src.manifestDigest);

  // pull with credentials, on a node that has none of the blobs
  const other = await testNode(t);
  await other.env.logins.login(d.host, CREDS);
  const back = await other.env.imageService.pull(target);
  assert.equal(back.digest, src.manifestDigest);
  assert.equal(back.configDigest, src.configDigest);
});

void test("docker-registry with token auth, tokens naming their key by libtrust kid: anonymous pull refused; pull and push with credentials; a key outside rootcertbundle is refused", async (t) => {
  const src = await source(t);
  if (!src) return;
  const ts = await tokenSetup(t);
  if (!ts) return;
  const { d } = ts;
  ts.use({ kidFormat: "libtrust", anonymousPull: false });

  // the kid, computed independently: SHA-256 of the DER SubjectPublicKeyInfo, 240 bits, base32, 12 groups of 4
  const spki = new X509Certificate(ts.certPem).publicKey.export({ format: "der", type: "spki" });
  const b32 = (await ok("base32", ["-w0"], { input: createHash("sha256").update(spki).digest().subarray(0, 30) })).stdout;
  const want = b32.match(/.{4}/g)?.join(":");
  const header = await tokenHeader(ts.realm);
  assert.equal(header.kid, want);
  assert.equal(header.x5c, undefined);
  assert.equal(libtrustKeyID(new X509Certificate(ts.certPem).publicKey), want);
  assert.notEqual(keyID(new X509Certificate(ts.certPem).publicKey), want);

  await pushSource(d.url, "token/busybox", "v1", src, CREDS).catch((err: Error) => {
    throw new Error(`seeding with credentials failed: ${err.message}\ndocker-registry log:\n${d.log()}`, { cause: err });
  });
  const ref = `${d.host}/token/busybox:v1`;

  const node = await testNode(t);
  await assert.rejects(node.env.imageService.pull(ref), unauthorizedFor(d.host));
  await node.env.logins.login(d.host, CREDS);
  const pulled = await node.env.imageService.pull(ref);
  assert.equal(pulled.digest, src.manifestDigest);
  const target = `${d.host}/token/pushed:v3`;
  node.env.imageService.tag(ref, target);
  assert.equal((await node.env.imageService.push(target)).digest, src.manifestDigest);

  // the same credentials, tokens signed by a key distribution does not trust
  ts.use({ kidFormat: "libtrust", anonymousPull: false, signingKey: "rogue" });
  const rogue = await testNode(t);
  await rogue.env.logins.login(d.host, CREDS);
  await assert.rejects(rogue.env.imageService.pull(ref), unauthorizedFor(d.host));
  assert.match(d.log(), /token signed by untrusted key with ID/, "distribution says why it refused");
});

// ===========================================================================
// 3. images pushed by other tools

void test("skopeo pushes the image as OCI and as Docker schema 2; podyard pulls both with the same config digest and diff_ids", async (t) => {
  const src = await source(t);
  if (!src) return;
  const sk = await skopeo(t);
  if (!sk) return;
  const d = await distribution(t);
  if (!d) return;
  for (const format of ["oci", "v2s2"] as const) {
    const repo = `skopeo/busybox-${format}`;
    await sk.ok(["copy", "--format", format, "--dest-tls-verify=false", `oci:${src.dir}:latest`, `docker://${d.host}/${repo}:v1`]);
    const m = await getManifest(d.url, repo, "v1");
    assert.equal(m.mediaType, format === "oci" ? MediaType.ociManifest : MediaType.dockerManifest);
    assert.equal(m.body.config.digest, src.configDigest, `${format}: skopeo kept the config blob`);

    const node = await testNode(t);
    const ref = `${d.host}/${repo}:v1`;
    const pulled = await node.env.imageService.pull(ref);
    assert.equal(pulled.configDigest, src.configDigest);
    const inspect = await inspectImage(node.env.imageService, ref) as { Id: string; RootFS: { Layers: string[] }; RepoDigests: string[] };
    assert.equal(inspect.Id, src.configDigest);
    assert.deepEqual(inspect.RootFS.Layers, src.diffIDs);
    assert.deepEqual(inspect.RepoDigests, [`${d.host}/${repo}@${pulled.digest}`]);
    assert.deepEqual(await readFromImage(node, src.diffIDs, "etc/motd"), Buffer.from(MOTD));
  }
});

void test("a multi-arch index with an attestation: pull picks this node's platform, --platform linux/<other> the other one", async (t) => {
  const src = await source(t);
  if (!src) return;
  const d = await distribution(t);
  if (!d) return;
  const multi = await pushMultiArch(d.url, "multi/busybox", "v1", src);
  const ref = `${d.host}/multi/busybox:v1`;

  const node = await testNode(t);
  const mine = await node.env.imageService.pull(ref);
  assert.equal(mine.digest, multi.index, "the name points at the index");
  assert.equal(mine.configDigest, src.configDigest, "this node's platform");
  const inspect = await inspectImage(node.env.imageService, ref) as { Architecture: string };
  assert.equal(inspect.Architecture, multi.host.platform.architecture);

  const other = await testNode(t);
  const theirs = await other.env.imageService.pull(ref, { platform: multi.other.platform });
  assert.equal(theirs.configDigest, multi.other.config, `--platform linux/${multi.other.platform.architecture}`);
  const inspectOther = await inspectImage(other.env.imageService, ref) as { Architecture: string; RootFS: { Layers: string[] } };
  assert.equal(inspectOther.Architecture, multi.other.platform.architecture);
  assert.deepEqual(inspectOther.RootFS.Layers, src.diffIDs);
});

void test("zstd layers pushed by skopeo (--dest-compress-format zstd) are pulled and unpacked", async (t) => {
  const src = await source(t);
  if (!src) return;
  const sk = await skopeo(t);
  if (!sk) return;
  const d = await distribution(t);
  if (!d) return;
  const repo = "zstd/busybox";
  await sk.ok(["copy", "--dest-compress", "--dest-compress-format", "zstd", "--dest-tls-verify=false", `oci:${src.dir}:latest`, `docker://${d.host}/${repo}:v1`]);
  const m = await getManifest(d.url, repo, "v1");
  assert.deepEqual(m.body.layers.map((l) => l.mediaType), src.layerDigests.map(() => MediaType.ociLayerZstd), "skopeo wrote zstd layers");
  for (const l of m.body.layers) {
    const res: Response = await fetch(`${d.url}/v2/${repo}/blobs/${l.digest}`, { headers: { Range: "bytes=0-3" } });
    const head: Buffer = Buffer.from(await res.arrayBuffer()).subarray(0, 4);
    assert.equal(head.toString("hex"), "28b52ffd", `layer ${l.digest} starts with the zstd magic`);
  }

  const node = await testNode(t);
  const ref = `${d.host}/${repo}:v1`;
  const pulled = await node.env.imageService.pull(ref);
  const inspect = await inspectImage(node.env.imageService, ref) as { Id: string; RootFS: { Layers: string[] } };
  assert.equal(inspect.Id, pulled.configDigest);
  assert.deepEqual(inspect.RootFS.Layers, src.diffIDs, "diff_ids are the uncompressed digests, whatever the compression");
  assert.deepEqual(await readFromImage(node, src.diffIDs, "etc/motd"), Buffer.from(MOTD));
  const sh = await readFromImage(node, src.diffIDs.slice(0, 1), "bin/busybox");
  assert.ok(sh.length > 0, "the busybox binary came out of the zstd base layer");
});

// ===========================================================================
// 4. the CLI, as a docker user reads it

const HEX12 = /^[0-9a-f]{12}$/;

void test("podyard pull and images print what docker prints", async (t) => {
  const src = await source(t);
  if (!src) return;
  const d = await distribution(t);
  if (!d) return;
  await pushSource(d.url, "cli/busybox", "v1", src);
  const cli = await podyardCli(t);
  const ref = `${d.host}/cli/busybox:v1`;

  const first = (await cli.ok(["pull", ref])).stdout.split("\n");
  assert.equal(first[0], `v1: Pulling from ${d.host}/cli/busybox`, first.join("\n"));
  for (const layer of src.layerDigests) {
    assert.ok(first.includes(`${digestEncoded(layer).slice(0, 12)}: Pull complete`), `layer ${layer}: Pull complete\n${first.join("\n")}`);
  }
  assert.ok(first.includes(`Digest: ${src.manifestDigest}`), first.join("\n"));
  assert.ok(first.includes(`Status: Downloaded newer image for ${ref}`), first.join("\n"));
  const second = (await cli.ok(["pull", ref])).stdout.split("\n");
  assert.equal(second[0], `v1: Pulling from ${d.host}/cli/busybox`, second.join("\n"));
  assert.ok(second.includes(`Digest: ${src.manifestDigest}`), second.join("\n"));
  assert.ok(second.includes(`Status: Image is up to date for ${ref}`), second.join("\n"));
  // docker prints no layer lines for an image that is up to date; never "Pull complete" for a layer it did not pull
  assert.ok(!second.some((l) => l.endsWith(": Pull complete")), `a second pull reports no layer as pulled:\n${second.join("\n")}`);

  const id = digestEncoded(src.configDigest).slice(0, 12);
  const images = (await cli.ok(["images"])).stdout.trimEnd().split("\n");
  assert.match(images[0] ?? "", /^REPOSITORY {3,}TAG {3,}IMAGE ID {3,}CREATED {3,}SIZE$/);
  assert.equal(images.length, 2, images.join("\n"));
  const row = (images[1] ?? "").split(/ {3,}/);
  assert.deepEqual(row.slice(0, 3), [`${d.host}/cli/busybox`, "v1", id], images.join("\n"));
  assert.match(row[4] ?? "", /^\d+(\.\d+)?(B|kB|MB)$/, "SIZE");

  const quiet = (await cli.ok(["images", "-q"])).stdout.trim();
  assert.match(quiet, HEX12);
  assert.equal(quiet, id);

  const withDigests = (await cli.ok(["images", "--digests"])).stdout.trimEnd().split("\n");
  assert.match(withDigests[0] ?? "", /^REPOSITORY {3,}TAG {3,}DIGEST {3,}IMAGE ID {3,}CREATED {3,}SIZE$/);
  assert.deepEqual((withDigests[1] ?? "").split(/ {3,}/).slice(0, 4), [`${d.host}/cli/busybox`, "v1", src.manifestDigest, id]);
});

void test("pull --platform that switches the platform says Downloaded newer image, and the name then points at that platform", async (t) => {
  const src = await source(t);
  if (!src) return;
  const d = await distribution(t);
  if (!d) return;
  const multi = await pushMultiArch(d.url, "cli/switch", "v1", src);
  const cli = await podyardCli(t);
  const ref = `${d.host}/cli/switch:v1`;
  const other = `linux/${multi.other.platform.architecture}`;
  const id = async (): Promise<string | undefined> => (JSON.parse((await cli.ok(["inspect", ref])).stdout) as { Id: string }[])[0]?.Id;
  await cli.ok(["pull", ref]);
  assert.equal(await id(), src.configDigest);

  const switched = (await cli.ok(["pull", "--platform", other, ref])).stdout;
  assert.ok(switched.includes(`Digest: ${multi.index}`), switched);
  assert.ok(switched.includes(`Status: Downloaded newer image for ${ref}`), switched);
  assert.equal(await id(), multi.other.config, `the name points at ${other}'s manifest`);
  const same = (await cli.ok(["pull", "--platform", other, ref])).stdout;
  assert.ok(same.includes(`Status: Image is up to date for ${ref}`), same);

  // back to this node's platform: every blob is stored already, yet the name moves
  const back = (await cli.ok(["pull", ref])).stdout;
  assert.ok(back.includes(`Status: Downloaded newer image for ${ref}`), back);
  assert.equal(await id(), src.configDigest);
});

void test("podyard push prints the repository and `<tag>: digest: … size: …`", async (t) => {
  const src = await source(t);
  if (!src) return;
  const d = await distribution(t);
  if (!d) return;
  await pushSource(d.url, "cli/busybox", "v1", src);
  const cli = await podyardCli(t);
  await cli.ok(["pull", `${d.host}/cli/busybox:v1`]);
  const target = `${d.host}/cli/pushed:v2`;
  await cli.ok(["tag", `${d.host}/cli/busybox:v1`, target]);
  const out = (await cli.ok(["push", target])).stdout.trimEnd().split("\n");
  assert.equal(out[0], `The push refers to repository [${d.host}/cli/pushed]`, out.join("\n"));
  assert.equal(out[out.length - 1], `v2: digest: ${src.manifestDigest} size: ${src.built.manifestDescriptor.size}`, out.join("\n"));
  const m = await getManifest(d.url, "cli/pushed", "v2");
  assert.equal(m.body.config.digest, src.configDigest);
});

void test("podyard's error messages: no such image, unreachable registry, manifest unknown, platform not in the index", async (t) => {
  const src = await source(t);
  if (!src) return;
  const d = await distribution(t);
  if (!d) return;
  const multi = await pushMultiArch(d.url, "cli/multi", "v1", src);
  const cli = await podyardCli(t);

  const nope = await cli.run(["inspect", "nope"]);
  assert.equal(nope.code, 3, report("podyard", ["inspect", "nope"], nope));
  assert.match(nope.stderr, /No such image: nope/);

  const closed = `127.0.0.1:${await freePort()}`;
  const started = Date.now();
  const down = await cli.fails(["pull", `${closed}/cli/busybox:v1`]);
  t.diagnostic(`podyard stderr: ${down.stderr.trim()}`);
  assert.ok(down.stderr.includes(closed), `names the registry ${closed}: ${down.stderr}`);
  assert.match(down.stderr, /unreachable/i, down.stderr);
  t.diagnostic(`unreachable registry reported after ${Date.now() - started} ms`);

  const unknownRef = `${d.host}/cli/multi:nope`;
  const unknown = await cli.fails(["pull", unknownRef]);
  t.diagnostic(`podyard stderr: ${unknown.stderr.trim()}`);
  assert.ok(unknown.stderr.includes(d.host), `names the registry: ${unknown.stderr}`);
  assert.match(unknown.stderr, /cli\/multi:nope/, `names the reference: ${unknown.stderr}`);
  assert.match(unknown.stderr, /MANIFEST_UNKNOWN/, `carries the OCI code: ${unknown.stderr}`);

  const noPlatform = await cli.fails(["pull", "--platform", "linux/s390x", `${d.host}/cli/multi:v1`]);
  t.diagnostic(`podyard stderr: ${noPlatform.stderr.trim()}`);
  assert.match(noPlatform.stderr, /linux\/s390x/, noPlatform.stderr);
  for (const p of [multi.host.platform, multi.other.platform]) {
    assert.ok(noPlatform.stderr.includes(`${p.os}/${p.architecture}`), `lists ${p.os}/${p.architecture}: ${noPlatform.stderr}`);
  }
  assert.doesNotMatch(noPlatform.stderr, /unknown\/unknown/, "attestations are not platforms");

  const arm = await cli.ok(["pull", "--platform", `linux/${multi.other.platform.architecture}`, `${d.host}/cli/multi:v1`]);
  assert.match(arm.stdout, new RegExp(`Digest: ${multi.index}`));
  const inspect = JSON.parse((await cli.ok(["inspect", `${d.host}/cli/multi:v1`])).stdout) as { Id: string; Architecture: string }[];
  assert.equal(inspect[0]?.Id, multi.other.config);
});
