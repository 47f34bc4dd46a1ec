/**
 * Interop with real clients: skopeo 1.9 and podman 4.3 (containers/image) push to and
 * pull from a podyard registry served in-process on 127.0.0.1 — byte-for-byte round
 * trips of the tutorial's busybox OCI image, Docker schema 2, htpasswd Basic auth,
 * token auth, deletes.
 *
 * Isolation: every tool runs with a scratch HOME, XDG_RUNTIME_DIR, TMPDIR, auth file
 * and registries.conf; podman also with its own storage.conf (vfs, temp graphroot and
 * runroot) and containers.conf (temp tmp_dir, static_dir, file locks, no events). As
 * root, containers/image keeps its blob-info cache in /var/lib/containers/cache and
 * its short-name cache in /var/cache/containers whatever the config says;
 * `_CONTAINERS_ROOTLESS_UID` (read by containers/image's internal/rootless) moves
 * both under the scratch HOME, and the podman test checks that they landed there.
 */
import { test, after } from "node:test";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { digestOf, MediaType } from "../../src/oci/index.js";
import { BasicAuthorizer, createTokenAuth, Htpasswd } from "../../src/registry/server/auth/index.js";
import type { RegistryServerOptions } from "../../src/registry/server/index.js";
import { errorCode, startRegistry, type TestRegistry } from "../helpers/registry.js";
import { describeRun, haveTool, killLeftoverChildren, runOk, runTool, type RunResult } from "../helpers/run-tool.js";
import { layoutBlobPath, sharedSourceImage, type SourceImage } from "../helpers/images.js";
import { podmanEnv, toolEnv as scratchToolEnv } from "../helpers/containers-env.js";

const USER = "user";
const PASSWORD = "pass";
const RUN_TIMEOUT_MS = 30_000;
/** The registry logs this when a client closes a connection right after reading a whole blob (reported). */

// ---------------------------------------------------------------------------
// child processes: every one we spawn is tracked and killed (by its own handle) if still alive

after(killLeftoverChildren);

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = RUN_TIMEOUT_MS): Promise<RunResult> {
  return runTool(cmd, args, { env, timeoutMs });
}

const report = describeRun;

/** Runs and asserts exit 0. */
function ok(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runOk(cmd, args, { env, timeoutMs: RUN_TIMEOUT_MS });
}

/** Runs and asserts a non-zero exit whose stderr matches `why`. */
async function fails(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, why: RegExp): Promise<RunResult> {
  const r = await run(cmd, args, env);
  assert.notEqual(r.code, 0, `expected a failure: ${report(cmd, args, r)}`);
  assert.match(r.stderr, why, report(cmd, args, r));
  return r;
}

// ---------------------------------------------------------------------------
// temp dirs: lower-case names, since podman names an image pulled from oci:<dir> after <dir>

async function newDir(prefix: string): Promise<string> {
  const dir = join(tmpdir(), `${prefix}-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

async function tempDir(t: TestContext, prefix: string): Promise<string> {
  const dir = await newDir(prefix);
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }));
  return dir;
}

// ---------------------------------------------------------------------------
// the source image: the tutorial's busybox OCI layout, built once

type Source = SourceImage;

const sourceImage = sharedSourceImage({ prefix: "podyard-interop-src" });
after(() => sourceImage.remove());

function source(t: TestContext): Promise<Source | undefined> {
  return sourceImage.get(t);
}

const blobPath = layoutBlobPath;

/** Asserts that each blob of `digests` in layout `to` equals the same blob in layout `from`. */
async function assertSameBlobs(from: string, to: string, digests: readonly string[]): Promise<void> {
  for (const d of digests) {
    const want = await readFile(blobPath(from, d));
    const got = await readFile(blobPath(to, d));
    assert.ok(got.equals(want), `blob ${d} differs: ${got.length} bytes vs ${want.length} in the source`);
    assert.equal(digestOf(got), d);
  }
}

interface LayoutIndex {
  manifests: { mediaType: string; digest: string; size: number; annotations?: Record<string, string> }[];
}

async function readIndex(layout: string): Promise<LayoutIndex> {
  return JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as LayoutIndex;
}

/** Asserts that `layout` holds exactly the source image, under `tag`, with byte-identical blobs. */
async function assertSameImage(src: Source, layout: string, tag: string): Promise<void> {
  const index = await readIndex(layout);
  assert.equal(index.manifests.length, 1, JSON.stringify(index));
  const [m] = index.manifests;
  assert.equal(m?.digest, src.manifestDigest);
  assert.equal(m?.mediaType, MediaType.ociManifest);
  assert.equal(m?.annotations?.["org.opencontainers.image.ref.name"], tag);
  await assertSameBlobs(src.dir, layout, [src.manifestDigest, src.configDigest, ...src.layerDigests]);
}

// ---------------------------------------------------------------------------
// tool environments

interface ToolEnv {
  env: NodeJS.ProcessEnv;
  home: string;
  authFile: string;
}

/** A scratch HOME, runtime dir, TMPDIR, auth file and registries.conf, and nothing of the caller's. */
async function toolEnv(t: TestContext): Promise<ToolEnv> {
  const base = await tempDir(t, "podyard-interop-env");
  const { env } = await scratchToolEnv(base);
  return { env, home: join(base, "home"), authFile: join(base, "auth.json") };
}

interface Podman {
  env: NodeJS.ProcessEnv;
  home: string;
  authFile: string;
  graphroot: string;
  run(args: readonly string[]): Promise<RunResult>;
  ok(args: readonly string[]): Promise<RunResult>;
  fails(args: readonly string[], why: RegExp): Promise<RunResult>;
}

/** podman with its own vfs storage and containers.conf under a temp dir, removed afterwards. */
async function podman(t: TestContext): Promise<Podman> {
  const base = await tempDir(t, "podyard-interop-podman");
  const p = await podmanEnv(base, "vfs");
  for (const dir of p.outside) t.after(() => rm(dir, { recursive: true, force: true }));
  const global = p.globalFlags;
  return {
    env: p.env,
    home: join(base, "home"),
    authFile: join(base, "auth.json"),
    graphroot: p.graphroot,
    run: (args) => run("podman", [...global, ...args], p.env),
    ok: (args) => ok("podman", [...global, ...args], p.env),
    fails: (args, why) => fails("podman", [...global, ...args], p.env, why),
  };
}

// ---------------------------------------------------------------------------
// registries

interface Served {
  reg: TestRegistry;
  /** host:port */
  host: string;
  logs: string[];
}

async function serve(t: TestContext, opts: Partial<RegistryServerOptions> = {}): Promise<Served> {
  const logs: string[] = [];
  const reg = await startRegistry({ ...opts, log: (line) => logs.push(line) });
  t.after(() => reg.close());
  return { reg, host: new URL(reg.url).host, logs };
}

/**
 * Asserts the registry logged nothing, bar premature-close errors: the registry logs
 * those when a client (skopeo, at exit) closes the connection after reading a whole
 * blob, before the server's read stream has ended — a server bug, reported, that
 * does not affect what the client receives.
 */
function assertQuietLog(_t: TestContext, s: Served): void {
  assert.deepEqual(s.logs, [], "the registry logged errors");
}

async function htpasswdFile(t: TestContext): Promise<string> {
  const dir = await tempDir(t, "podyard-interop-htpasswd");
  let line: string;
  try {
    line = (await ok("htpasswd", ["-Bbn", USER, PASSWORD], process.env)).stdout.trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    t.diagnostic("htpasswd (apache2-utils) not installed: hashing with bcryptjs");
    line = `${USER}:${(await bcrypt.hash(PASSWORD, 5)).replace(/^\$2b\$/, "$2y$")}`;
  }
  const file = join(dir, "htpasswd");
  await writeFile(file, `${line}\n`);
  return file;
}

async function serveBasic(t: TestContext): Promise<Served> {
  const htpasswd = await Htpasswd.load(await htpasswdFile(t));
  return serve(t, { authorizer: new BasicAuthorizer({ htpasswd, realm: "podyard" }) });
}

async function serveToken(t: TestContext, anonymousPull: boolean): Promise<Served> {
  const htpasswd = await Htpasswd.load(await htpasswdFile(t));
  const auth = createTokenAuth({
    realm: (req) => `http://${req.headers.host ?? "127.0.0.1"}/auth/token`,
    service: "podyard-interop",
    htpasswd,
    anonymousPull,
  });
  return serve(t, { authorizer: auth.authorizer, extraRoutes: { "/auth/token": auth.tokenEndpoint } });
}

function basicHeader(): string {
  return `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;
}

// ---------------------------------------------------------------------------
// skopeo

interface Inspect {
  Name: string;
  Digest: string;
  RepoTags: string[];
  Layers: string[];
}

function skopeo(tools: ToolEnv): {
  ok(args: readonly string[]): Promise<RunResult>;
  fails(args: readonly string[], why: RegExp): Promise<RunResult>;
  inspect(ref: string, ...flags: string[]): Promise<Inspect>;
} {
  const global = ["--insecure-policy"];
  return {
    ok: (args) => ok("skopeo", [...global, ...args], tools.env),
    fails: (args, why) => fails("skopeo", [...global, ...args], tools.env, why),
    inspect: async (ref, ...flags) =>
      JSON.parse((await ok("skopeo", [...global, "inspect", "--tls-verify=false", ...flags, ref], tools.env)).stdout) as Inspect,
  };
}

function assertInspect(got: Inspect, src: Source, tag: string): void {
  assert.equal(got.Digest, src.manifestDigest);
  assert.deepEqual(got.Layers, src.layerDigests);
  assert.ok(got.RepoTags.includes(tag), JSON.stringify(got.RepoTags));
}

// ---------------------------------------------------------------------------
// 1. skopeo, no auth

void test("skopeo copies the busybox OCI image in by tag and out by tag and by digest, byte for byte", async (t) => {
  if (!(await haveTool(t, "skopeo"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serve(t);
  const tools = await toolEnv(t);
  const sk = skopeo(tools);
  const repo = `docker://${s.host}/tutorial/busybox`;

  await sk.ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${src.dir}:latest`, `${repo}:latest`]);

  assertInspect(await sk.inspect(`${repo}:latest`), src, "latest");
  assertInspect(await sk.inspect(`${repo}@${src.manifestDigest}`), src, "latest");
  const raw = (await sk.ok(["inspect", "--tls-verify=false", "--raw", `${repo}:latest`])).stdout;
  assert.equal(raw, await readFile(blobPath(src.dir, src.manifestDigest), "utf8"));
  const rawConfig = (await sk.ok(["inspect", "--tls-verify=false", "--config", "--raw", `${repo}:latest`])).stdout;
  assert.equal(rawConfig, await readFile(blobPath(src.dir, src.configDigest), "utf8"));

  const res = await fetch(`${s.reg.url}/v2/tutorial/busybox/manifests/latest`, { headers: { Accept: MediaType.ociManifest } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), MediaType.ociManifest);
  assert.equal(res.headers.get("docker-content-digest"), src.manifestDigest);
  await res.arrayBuffer();

  const out = await tempDir(t, "podyard-interop-out");
  const byTag = join(out, "by-tag");
  const byDigest = join(out, "by-digest");
  await sk.ok(["copy", "--preserve-digests", "--src-tls-verify=false", `${repo}:latest`, `oci:${byTag}:latest`]);
  await assertSameImage(src, byTag, "latest");
  await sk.ok(["copy", "--preserve-digests", "--src-tls-verify=false", `${repo}@${src.manifestDigest}`, `oci:${byDigest}:pinned`]);
  await assertSameImage(src, byDigest, "pinned");

  assertQuietLog(t, s);
});

void test("skopeo copy --format v2s2 pushes Docker schema 2, served with the Docker media type and copied back unchanged", async (t) => {
  if (!(await haveTool(t, "skopeo"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serve(t);
  const tools = await toolEnv(t);
  const sk = skopeo(tools);
  const repo = `docker://${s.host}/tutorial/busybox-v2s2`;
  const out = await tempDir(t, "podyard-interop-out");
  const digestFile = join(out, "digest");

  await sk.ok(["copy", "--format", "v2s2", "--digestfile", digestFile, "--dest-tls-verify=false", `oci:${src.dir}:latest`, `${repo}:latest`]);
  const digest = (await readFile(digestFile, "utf8")).trim();

  // an OCI-first Accept list still gets the stored Docker manifest, verbatim
  const res = await fetch(`${s.reg.url}/v2/tutorial/busybox-v2s2/manifests/latest`, {
    headers: { Accept: [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList].join(", ") },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), MediaType.dockerManifest);
  assert.equal(res.headers.get("docker-content-digest"), digest);
  const served = Buffer.from(await res.arrayBuffer());
  assert.equal(digestOf(served), digest);
  const m = JSON.parse(served.toString("utf8")) as {
    mediaType: string;
    config: { mediaType: string; digest: string };
    layers: { mediaType: string; digest: string }[];
  };
  assert.equal(m.mediaType, MediaType.dockerManifest);
  assert.equal(m.config.mediaType, MediaType.dockerConfig);
  assert.equal(m.config.digest, src.configDigest);
  assert.deepEqual(m.layers.map((l) => l.mediaType), src.layerDigests.map(() => MediaType.dockerLayerGzip));
  assert.deepEqual(m.layers.map((l) => l.digest), src.layerDigests);

  const inspected = await sk.inspect(`${repo}:latest`);
  assert.equal(inspected.Digest, digest);
  assert.deepEqual(inspected.Layers, src.layerDigests);
  assert.equal((await sk.ok(["inspect", "--tls-verify=false", "--raw", `${repo}:latest`])).stdout, served.toString("utf8"));

  // back into a dir: layout, which keeps the Docker manifest as it is
  const back = join(out, "dir");
  await sk.ok(["copy", "--preserve-digests", "--src-tls-verify=false", `${repo}@${digest}`, `dir:${back}`]);
  assert.ok((await readFile(join(back, "manifest.json"))).equals(served), "manifest.json differs from the served manifest");
  for (const d of [src.configDigest, ...src.layerDigests]) {
    const got = await readFile(join(back, d.split(":")[1] ?? ""));
    assert.ok(got.equals(await readFile(blobPath(src.dir, d))), `blob ${d} differs`);
  }

  assertQuietLog(t, s);
});

// ---------------------------------------------------------------------------
// 2. skopeo with auth

void test("skopeo against htpasswd Basic auth: --dest-creds, --creds and --src-creds work, no or wrong credentials are refused", async (t) => {
  if (!(await haveTool(t, "skopeo"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serveBasic(t);
  const tools = await toolEnv(t);
  const sk = skopeo(tools);
  const repo = `docker://${s.host}/tutorial/busybox`;
  const push = ["copy", "--preserve-digests", "--dest-tls-verify=false"];

  await sk.fails([...push, `oci:${src.dir}:latest`, `${repo}:latest`], /unauthorized|authentication required/i);
  await sk.fails([...push, "--dest-creds", `${USER}:wrong`, `oci:${src.dir}:latest`, `${repo}:latest`], /unauthorized|authentication required/i);
  const tags = await fetch(`${s.reg.url}/v2/tutorial/busybox/tags/list`, { headers: { Authorization: basicHeader() } });
  assert.equal(tags.status, 404, "a refused push left a repository behind");
  await tags.arrayBuffer();

  await sk.ok([...push, "--dest-creds", `${USER}:${PASSWORD}`, `oci:${src.dir}:latest`, `${repo}:latest`]);
  await sk.fails(["inspect", "--tls-verify=false", `${repo}:latest`], /unauthorized|authentication required/i);
  await sk.fails(["inspect", "--tls-verify=false", "--creds", `${USER}:wrong`, `${repo}:latest`], /unauthorized|invalid username or password/i);
  assertInspect(await sk.inspect(`${repo}:latest`, "--creds", `${USER}:${PASSWORD}`), src, "latest");

  const out = await tempDir(t, "podyard-interop-out");
  await sk.fails(["copy", "--src-tls-verify=false", `${repo}:latest`, `oci:${join(out, "anon")}:latest`], /unauthorized|authentication required/i);
  await sk.ok(["copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", `${USER}:${PASSWORD}`, `${repo}@${src.manifestDigest}`, `oci:${join(out, "back")}:latest`]);
  await assertSameImage(src, join(out, "back"), "latest");

  assertQuietLog(t, s);
});

void test("skopeo against token auth: credentials get push and pull tokens, anonymous callers and wrong passwords are refused", async (t) => {
  if (!(await haveTool(t, "skopeo"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serveToken(t, false);
  const tools = await toolEnv(t);
  const sk = skopeo(tools);
  const repo = `docker://${s.host}/tutorial/busybox`;
  const push = ["copy", "--preserve-digests", "--dest-tls-verify=false"];

  // An anonymous token without rights answers 401 + error="insufficient_scope", which
  // containers/image reports as "denied: requested access to the resource is denied".
  await sk.fails([...push, `oci:${src.dir}:latest`, `${repo}:latest`], /unauthorized|authentication required|denied/i);
  await sk.fails([...push, "--dest-creds", `${USER}:wrong`, `oci:${src.dir}:latest`, `${repo}:latest`], /unauthorized|invalid username or password/i);

  await sk.ok([...push, "--dest-creds", `${USER}:${PASSWORD}`, `oci:${src.dir}:latest`, `${repo}:latest`]);
  await sk.fails(["inspect", "--tls-verify=false", `${repo}:latest`], /unauthorized|authentication required/i);
  assertInspect(await sk.inspect(`${repo}:latest`, "--creds", `${USER}:${PASSWORD}`), src, "latest");

  const out = await tempDir(t, "podyard-interop-out");
  await sk.ok(["copy", "--preserve-digests", "--src-tls-verify=false", "--src-creds", `${USER}:${PASSWORD}`, `${repo}:latest`, `oci:${join(out, "back")}:latest`]);
  await assertSameImage(src, join(out, "back"), "latest");

  assertQuietLog(t, s);
});

void test("skopeo against token auth with anonymous pull: pulls without credentials, pushes only with them", async (t) => {
  if (!(await haveTool(t, "skopeo"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serveToken(t, true);
  const tools = await toolEnv(t);
  const sk = skopeo(tools);
  const repo = `docker://${s.host}/tutorial/busybox`;
  const push = ["copy", "--preserve-digests", "--dest-tls-verify=false"];

  await sk.fails([...push, `oci:${src.dir}:latest`, `${repo}:latest`], /unauthorized|authentication required|denied/i);
  await sk.ok([...push, "--dest-creds", `${USER}:${PASSWORD}`, `oci:${src.dir}:latest`, `${repo}:latest`]);
  assertInspect(await sk.inspect(`${repo}:latest`), src, "latest");
  const out = await tempDir(t, "podyard-interop-out");
  await sk.ok(["copy", "--preserve-digests", "--src-tls-verify=false", `${repo}:latest`, `oci:${join(out, "back")}:latest`]);
  await assertSameImage(src, join(out, "back"), "latest");
  await sk.fails(["delete", "--tls-verify=false", `${repo}@${src.manifestDigest}`], /unauthorized|authentication required|denied/i);
  assertInspect(await sk.inspect(`${repo}:latest`), src, "latest");

  assertQuietLog(t, s);
});

// ---------------------------------------------------------------------------
// 3. podman

void test("podman pulls the busybox layout, pushes it, removes it and pulls it back with the same diff IDs", async (t) => {
  if (!(await haveTool(t, "podman"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serve(t);
  const pm = await podman(t);
  const id = src.configDigest.split(":")[1] ?? "";
  const target = `${s.host}/tutorial/podman:v1`;

  const pulled = await pm.ok(["pull", "-q", `oci:${src.dir}:latest`]);
  assert.equal(pulled.stdout.trim(), id, "the image ID is the config digest");

  const digestFile = join(pm.graphroot, "..", "push-digest");
  await pm.ok(["push", "--tls-verify=false", "--digestfile", digestFile, id, target]);
  const pushed = (await readFile(digestFile, "utf8")).trim();
  const res = await fetch(`${s.reg.url}/v2/tutorial/podman/manifests/v1`, { method: "HEAD", headers: { Accept: `${MediaType.ociManifest}, ${MediaType.dockerManifest}` } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("docker-content-digest"), pushed);

  await pm.ok(["rmi", "-f", id]);
  assert.equal((await pm.ok(["images", "-q"])).stdout.trim(), "", "the image is gone");

  await pm.ok(["pull", "-q", "--tls-verify=false", target]);
  const inspected = JSON.parse((await pm.ok(["image", "inspect", target])).stdout) as { Id: string; Digest: string; RootFS: { Layers: string[] } }[];
  assert.equal(inspected.length, 1);
  assert.equal(inspected[0]?.Id, id);
  assert.equal(inspected[0]?.Digest, pushed);
  assert.deepEqual(inspected[0]?.RootFS.Layers, src.built.config.rootfs.diff_ids);

  if (process.getuid?.() === 0) {
    // containers/image kept its blob-info cache under the scratch HOME, not /var/lib/containers/cache
    await stat(join(pm.home, ".local", "share", "containers", "cache", "blob-info-cache-v1.boltdb"));
  }
  assertQuietLog(t, s);
});

void test("podman login to an htpasswd registry, then push; without login the push is refused", async (t) => {
  if (!(await haveTool(t, "podman"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serveBasic(t);
  const pm = await podman(t);
  const id = src.configDigest.split(":")[1] ?? "";
  const target = `${s.host}/tutorial/podman:v1`;

  await pm.ok(["pull", "-q", `oci:${src.dir}:latest`]);
  await pm.fails(["push", "--tls-verify=false", id, target], /unauthorized|authentication required/i);
  await pm.fails(["login", "--tls-verify=false", "-u", USER, "-p", "wrong", s.host], /unauthorized|invalid username\/password|invalid username or password/i);

  await pm.ok(["login", "--tls-verify=false", "-u", USER, "-p", PASSWORD, s.host]);
  const auths = (JSON.parse(await readFile(pm.authFile, "utf8")) as { auths: Record<string, { auth?: string }> }).auths;
  assert.equal(auths[s.host]?.auth, Buffer.from(`${USER}:${PASSWORD}`).toString("base64"), "podman login wrote the temp REGISTRY_AUTH_FILE");

  await pm.ok(["push", "--tls-verify=false", id, target]);
  const res = await fetch(`${s.reg.url}/v2/tutorial/podman/manifests/v1`, { headers: { Authorization: basicHeader(), Accept: `${MediaType.ociManifest}, ${MediaType.dockerManifest}` } });
  assert.equal(res.status, 200);
  const m = JSON.parse(await res.text()) as { config: { digest: string } };
  assert.equal(m.config.digest, src.configDigest);

  await pm.ok(["rmi", "-f", id]);
  await pm.ok(["pull", "-q", "--tls-verify=false", target]);
  const layers = (await pm.ok(["image", "inspect", "--format", "{{json .RootFS.Layers}}", target])).stdout;
  assert.deepEqual(JSON.parse(layers), src.built.config.rootfs.diff_ids);

  assertQuietLog(t, s);
});

// ---------------------------------------------------------------------------
// 4. delete

void test("skopeo delete removes a manifest by digest; inspecting it afterwards fails with manifest unknown", async (t) => {
  if (!(await haveTool(t, "skopeo"))) return;
  const src = await source(t);
  if (!src) return;
  const s = await serve(t);
  const tools = await toolEnv(t);
  const sk = skopeo(tools);
  const repo = `docker://${s.host}/tutorial/busybox`;

  await sk.ok(["copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${src.dir}:latest`, `${repo}:latest`]);
  assertInspect(await sk.inspect(`${repo}@${src.manifestDigest}`), src, "latest");

  await sk.ok(["delete", "--tls-verify=false", `${repo}@${src.manifestDigest}`]);
  await sk.fails(["inspect", "--tls-verify=false", `${repo}@${src.manifestDigest}`], /manifest unknown/i);
  await sk.fails(["inspect", "--tls-verify=false", `${repo}:latest`], /manifest unknown/i);
  const res = await fetch(`${s.reg.url}/v2/tutorial/busybox/manifests/${src.manifestDigest}`, { method: "HEAD" });
  assert.equal(res.status, 404);
  const again = await fetch(`${s.reg.url}/v2/tutorial/busybox/manifests/${src.manifestDigest}`, { method: "DELETE" });
  assert.equal(again.status, 404);
  assert.equal(await errorCode(again), "MANIFEST_UNKNOWN");
  // skopeo GETs the manifest before deleting it: a 404 there is "Image may not exist"
  await sk.fails(["delete", "--tls-verify=false", `${repo}@${src.manifestDigest}`], /may not exist|manifest unknown/i);

  assertQuietLog(t, s);
});
