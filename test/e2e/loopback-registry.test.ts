/**
 * The podyard CLI against loopback registries it could not use before:
 *
 * 1. one serving TLS with a self-signed certificate and no hosts.json: `podyard login`,
 *    `push` and `pull` work (HTTPS is tried first, the certificate not checked);
 * 2. one that accepts connections and never answers, and one whose blob stalls mid-body:
 *    with small timeouts from the environment the pull fails, naming the registry, the host
 *    and what did not come, and leaves no image and no blob behind.
 *
 * Every server is started by the test and closed after it, every child process killed
 * through its handle if still alive, every temp dir removed.
 */
import { after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestEncoded } from "../../src/oci/index.js";
import { pushLayout, sharedSourceImage, type SourceImage } from "../helpers/images.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { describeRun, killLeftoverChildren, runTool, type RunResult } from "../helpers/run-tool.js";
import { certOrSkip } from "../helpers/tls-cert.js";
import { collect, listenLoopback, silentServer, type ListeningServer } from "../registry/client/fixtures.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const PODYARD_BIN = join(REPO_ROOT, "bin", "podyard.js");

after(killLeftoverChildren);

const sourceImage = sharedSourceImage({ prefix: "podyard-loopback-src" });
after(() => sourceImage.remove());

function podyard(home: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<RunResult> {
  return runTool(process.execPath, [PODYARD_BIN, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, PODYARD_HOME: home, ...env },
    timeoutMs: 120_000,
    ...(input !== undefined ? { input } : {}),
  });
}

async function ok(home: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Promise<RunResult> {
  const r = await podyard(home, args, env, input);
  assert.equal(r.code, 0, describeRun("podyard", args, r));
  return r;
}

async function tempHome(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-loopback-"));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }));
  return dir;
}

async function registry(t: TestContext, opts: Parameters<typeof startRegistry>[0] = {}): Promise<TestRegistry & { host: string }> {
  const reg = await startRegistry(opts);
  t.after(() => reg.close());
  return { ...reg, host: new URL(reg.url).host };
}

/** The committed blobs of a podyard home. */
async function blobs(home: string): Promise<string[]> {
  return readdir(join(home, "content", "blobs", "sha256")).catch(() => []);
}

test("podyard login, push and pull to a loopback registry with a self-signed certificate, without settings", async (t) => {
  const src: SourceImage | undefined = await sourceImage.get(t);
  const cert = await certOrSkip(t, "loopback-registry.test.ts");
  if (!src || !cert) return;
  const plain = await registry(t);
  const tls = await registry(t, { tls: { cert: cert.cert, key: cert.key } });
  assert.match(tls.url, /^https:/);
  await pushLayout(plain.url, "src/busybox", "v1", src.built);
  const home = await tempHome(t);

  const login = await ok(home, ["login", "--username", "alice", "--password-stdin", tls.host], {}, "pw\n");
  assert.match(login.stdout, /Login Succeeded/);
  await ok(home, ["pull", `${plain.host}/src/busybox:v1`]);
  await ok(home, ["tag", `${plain.host}/src/busybox:v1`, `${tls.host}/tls/busybox:v1`]);
  await ok(home, ["push", `${tls.host}/tls/busybox:v1`]);

  const fresh = await tempHome(t);
  const pulled = await ok(fresh, ["pull", `${tls.host}/tls/busybox:v1`]);
  assert.match(pulled.stdout, new RegExp(`Digest: ${src.manifestDigest}`));
  assert.match((await ok(fresh, ["images"])).stdout, new RegExp(`${tls.host}/tls/busybox\\s+v1`));
});

test("podyard pull from a loopback registry that never answers: unreachable, naming what timed out, nothing left", async (t) => {
  const silent = await silentServer();
  t.after(() => silent.close());
  const home = await tempHome(t);
  const env = { PODYARD_REGISTRY_CONNECT_TIMEOUT: "300ms", PODYARD_REGISTRY_RESPONSE_TIMEOUT: "300ms" };

  // no settings: the HTTPS-first handshake gets no answer
  const probed = await podyard(home, ["pull", `${silent.host}/app:v1`], env);
  assert.notEqual(probed.code, 0, describeRun("podyard", ["pull"], probed));
  assert.match(probed.stderr, new RegExp(`registry ${silent.host} is unreachable: ${silent.host}: no TLS handshake within 300ms`));

  // plain HTTP: the request gets no response
  await writeFile(join(home, "hosts.json"), JSON.stringify({ [silent.host]: { insecure: true } }));
  const r = await podyard(home, ["pull", `${silent.host}/app:v1`], env);
  assert.notEqual(r.code, 0, describeRun("podyard", ["pull"], r));
  assert.match(r.stderr, new RegExp(`registry ${silent.host} is unreachable: ${silent.host}: no response within 300ms`));
  assert.doesNotMatch((await ok(home, ["images"])).stdout, /app/);
  assert.deepEqual(await blobs(home), []);
});

test("podyard pull whose layer stalls mid-body: fails after the body timeout, no image, the layer not committed", async (t) => {
  const src = await sourceImage.get(t);
  if (!src) return;
  const reg = await registry(t);
  await pushLayout(reg.url, "stall/busybox", "v1", src.built);
  const layer = src.layerDigests[0];
  assert.ok(layer);
  const proxy = await stallingProxy(reg.url, layer);
  t.after(() => proxy.close());
  const home = await tempHome(t);
  await writeFile(join(home, "hosts.json"), JSON.stringify({ [proxy.host]: { insecure: true } }));

  const r = await podyard(home, ["pull", `${proxy.host}/stall/busybox:v1`], { PODYARD_REGISTRY_BODY_TIMEOUT: "300ms" });
  assert.notEqual(r.code, 0, describeRun("podyard", ["pull"], r));
  assert.match(r.stderr, new RegExp(`${proxy.host}: response body stalled: no data for 300ms`));
  assert.doesNotMatch((await ok(home, ["images"])).stdout, /stall/);
  assert.ok(!(await blobs(home)).includes(digestEncoded(layer)), "the stalled layer is not committed");
});

/**
 * A plain-HTTP proxy in front of `upstream` that passes everything through, except that
 * GETs of blob `digest` get their head and the first 16 KiB (later ones: the head), then silence.
 */
function stallingProxy(upstream: string, digest: string): Promise<ListeningServer> {
  let blobGets = 0;
  return listenLoopback(createServer((req, res) => {
    void (async () => {
      const body = req.method === "GET" || req.method === "HEAD" ? undefined : await collect(req);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== "host" && k !== "connection").map(([k, v]) => [k, String(v)]));
      const up = await fetch(`${upstream}${req.url ?? "/"}`, { method: req.method ?? "GET", headers, redirect: "manual", ...(body ? { body: new Uint8Array(body) } : {}) });
      const out: Record<string, string> = {};
      up.headers.forEach((v, k) => {
        if (k !== "transfer-encoding" && k !== "connection" && k !== "keep-alive") out[k] = v;
      });
      const bytes = Buffer.from(await up.arrayBuffer());
      res.writeHead(up.status, out);
      if (req.method === "GET" && req.url?.endsWith(`/blobs/${digest}`)) {
        if (blobGets++ === 0) res.write(bytes.subarray(0, 16 << 10)); // and nothing more; a resumed GET gets nothing at all
        else res.flushHeaders();
        return;
      }
      res.end(req.method === "HEAD" ? undefined : bytes);
    })().catch(() => res.destroy());
  }));
}
