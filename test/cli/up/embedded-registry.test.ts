/** The embedded registry as docker.io's first mirror: local content first, the rest pulled through. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configureDockerHubMirror, createEmbeddedRegistry, withDockerHubMirror } from "../../../src/cli/up/embedded-registry.js";
import { openNodeEnv } from "../../../src/cli/node-env.js";
import { buildTestImage, pushLayout } from "../../helpers/images.js";
import { startRegistry } from "../../helpers/registry.js";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test("hosts.json: the embedded registry goes first among docker.io's mirrors, and comes out again", async (t) => {
  const home = await mkdtemp(join(tmpdir(), "podyard-mirror-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const user = { url: "https://mirror.example.com" };
  assert.deepEqual(withDockerHubMirror({ "docker.io": { mirrors: [user] }, "r.example": { insecure: true } }, "127.0.0.1:5000", undefined), {
    "docker.io": { mirrors: [{ url: "http://127.0.0.1:5000", capabilities: ["pull", "resolve"] }, user] },
    "r.example": { insecure: true },
  });
  await configureDockerHubMirror(home, "127.0.0.1:5000");
  await configureDockerHubMirror(home, "127.0.0.1:5001");
  const hosts = JSON.parse(await readFile(join(home, "hosts.json"), "utf8")) as Record<string, { mirrors?: { url: string }[] }>;
  assert.deepEqual(hosts["docker.io"]?.mirrors?.map((m) => m.url), ["http://127.0.0.1:5001"], "the old address is taken out");
  await configureDockerHubMirror(home, undefined);
  assert.deepEqual(JSON.parse(await readFile(join(home, "hosts.json"), "utf8")), {}, "--no-mirror leaves no mirror");
});

test("alpine resolves to what the embedded registry holds; what it lacks comes from upstream and is cached", async (t) => {
  const image = await buildTestImage();
  t.after(() => image.cleanup());
  const upstream = await startRegistry();
  t.after(() => upstream.close());
  await pushLayout(upstream.url, "library/other", "latest", image);

  const home = await mkdtemp(join(tmpdir(), "podyard-mirror-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const registry = createEmbeddedRegistry({ root: join(home, "registry"), upstreamUrl: upstream.url, log: () => {} });
  const url = await registry.listen(0, "127.0.0.1");
  t.after(() => registry.close());
  const pushed = await pushLayout(url, "library/alpine", "latest", image);

  await configureDockerHubMirror(home, new URL(url).host);
  const env = await openNodeEnv({ home });
  t.after(() => env.close());
  const alpine = await env.imageService.pull("alpine");
  assert.equal(alpine.name, "docker.io/library/alpine:latest");
  assert.equal(alpine.digest, pushed.digest);
  const other = await env.imageService.pull("other:latest");
  assert.equal(other.name, "docker.io/library/other:latest");
  assert.deepEqual(await registry.registry.tags("library/other"), ["latest"], "the pulled-through image is now held by the embedded registry");
});

test("an image the mirror lacks, with the upstream unreachable, fails with the upstream's error", async (t) => {
  const home = await mkdtemp(join(tmpdir(), "podyard-mirror-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const dead = `http://127.0.0.1:${await freePort()}`;
  const registry = createEmbeddedRegistry({ root: join(home, "registry"), upstreamUrl: dead, log: () => {} });
  const url = await registry.listen(0, "127.0.0.1");
  t.after(() => registry.close());
  const res = await fetch(`${url}/v2/library/missing/manifests/latest`, { headers: { Accept: "application/vnd.oci.image.manifest.v1+json" } });
  assert.ok(res.status >= 500, `status ${res.status}`);
  const text = await res.text();
  assert.match(text, /127\.0\.0\.1/);
  assert.match(text, /refused|ECONNREFUSED|unreachable/i);
});
