/**
 * The pull-through cache when its upstream fails: content it has not cached gets a
 * 5xx naming the upstream and why (503 when unreachable, 502 when upstream answers
 * with a failure), never 404 NAME_UNKNOWN; an upstream 404 stays a 404.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { RegistryClient } from "../../../src/registry/client/index.js";
import { createPullThroughServer } from "../../../src/registry/server/index.js";
import { distributionMissing, startDistribution } from "../../helpers/distribution.js";
import { makeTempDir, removeDir, startRegistryProcess } from "../../helpers/registry-process.js";
import { htpasswdLine } from "./auth/helpers.js";
import { deadHost, makeImage, ociError, rawServer, startRegistry } from "../client/fixtures.js";

interface ErrorAnswer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  retryAfter?: string;
}

async function answer(url: string): Promise<ErrorAnswer> {
  const res = await fetch(url);
  const body = (await res.json()) as { errors?: { code?: string; message?: string }[] };
  const retryAfter = res.headers.get("retry-after");
  return { status: res.status, code: body.errors?.[0]?.code, message: body.errors?.[0]?.message, ...(retryAfter !== null ? { retryAfter } : {}) };
}

test("an unreachable upstream gets 503 UNAVAILABLE naming it, for manifests by tag and digest and for blobs", async () => {
  const upstream = `http://${await deadHost()}`;
  const root = await makeTempDir("proxy-down");
  const proc = await startRegistryProcess(root, ["--proxy-remote-url", upstream]);
  try {
    const want = { status: 503, code: "UNAVAILABLE", message: `upstream registry ${upstream} unreachable: connection refused` };
    assert.deepEqual(await answer(`${proc.url}/v2/team/app/manifests/latest`), want);
    assert.deepEqual(await answer(`${proc.url}/v2/team/app/manifests/${digestOf("a manifest")}`), want);
    assert.deepEqual(await answer(`${proc.url}/v2/team/app/blobs/${digestOf("a layer")}`), want);
  } finally {
    await proc.kill();
    await removeDir(root);
  }
});

test("an upstream answering 500 gets 502 with its answer; an upstream 404 stays 404", async () => {
  const failing = await rawServer((req, res) => {
    if (req.url?.includes("/missing/")) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(req.method === "HEAD" ? undefined : ociError("NAME_UNKNOWN", "repository name not known to registry"));
      return;
    }
    res.writeHead(500, { "Content-Type": "application/json" });
    res.end(req.method === "HEAD" ? undefined : ociError("UNKNOWN", "disk on fire"));
  });
  const proxy = await startRegistry({}, (o) => createPullThroughServer({ ...o, remoteUrl: failing.url, maxAttempts: 1 }));
  try {
    for (const path of ["team/app/manifests/latest", `team/app/manifests/${digestOf("m")}`, `team/app/blobs/${digestOf("b")}`]) {
      const got = await answer(`${proxy.url}/v2/${path}`);
      assert.equal(got.status, 502, path);
      assert.equal(got.code, "UNAVAILABLE", path);
      assert.match(got.message ?? "", new RegExp(`^upstream registry ${failing.url}: .*answered 500`), path);
    }
    const tag = await answer(`${proxy.url}/v2/missing/app/manifests/latest`);
    assert.equal(tag.status, 404);
    assert.equal(tag.code, "NAME_UNKNOWN");
    const blob = await answer(`${proxy.url}/v2/missing/app/blobs/${digestOf("b")}`);
    assert.equal(blob.status, 404);
    assert.equal(blob.code, "BLOB_UNKNOWN");
  } finally {
    await proxy.close();
    await failing.close();
  }
});

test("an upstream manifest over the size cap is a 502 naming the upstream, not a rate limit; an upstream 429 stays 429 with its Retry-After", async () => {
  const huge = Buffer.alloc(5 * 1024 * 1024, " ");
  const hugeDigest = digestOf(huge);
  const upstream = await rawServer((req, res) => {
    if (req.url?.includes("/limited/")) {
      res.writeHead(429, { "Content-Type": "application/json", "Retry-After": "3600" });
      res.end(req.method === "HEAD" ? undefined : ociError("TOOMANYREQUESTS", "pull rate limit reached"));
      return;
    }
    res.writeHead(200, { "Content-Type": "application/vnd.oci.image.manifest.v1+json", "Docker-Content-Digest": hugeDigest, "Content-Length": huge.length });
    res.end(req.method === "HEAD" ? undefined : huge);
  });
  const proxy = await startRegistry({}, (o) => createPullThroughServer({ ...o, remoteUrl: upstream.url, maxAttempts: 1 }));
  try {
    for (const path of ["team/app/manifests/latest", `team/app/manifests/${hugeDigest}`]) {
      const got = await answer(`${proxy.url}/v2/${path}`);
      assert.equal(got.status, 502, `${path}: ${JSON.stringify(got)}`);
      assert.equal(got.code, "UNKNOWN", path);
      assert.match(got.message ?? "", new RegExp(`^upstream registry ${upstream.url}: manifest too large: `), path);
    }
    const limited = await answer(`${proxy.url}/v2/limited/app/manifests/latest`);
    assert.equal(limited.status, 429);
    assert.equal(limited.retryAfter, "3600", "upstream's Retry-After is passed on");
    assert.equal(limited.code, "TOOMANYREQUESTS");
    assert.match(limited.message ?? "", new RegExp(`^upstream registry ${upstream.url}: too many requests: `));
  } finally {
    await proxy.close();
    await upstream.close();
  }
});

test("a proxy whose upstream credentials are refused says so (502), instead of 404 for every image; right ones still get 404 for a missing one", async (t) => {
  const missing = await distributionMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const dir = await makeTempDir("proxy-creds");
  t.after(() => removeDir(dir));
  await writeFile(join(dir, "htpasswd"), `${(await htpasswdLine("alice", "wonderland")).line}\n`);
  const dist = await startDistribution(dir, { auth: { htpasswd: { realm: "podyard-test", path: join(dir, "htpasswd") } }, logLevel: "error" });
  t.after(() => dist.stop());
  const img = makeImage([100]);
  const pusher = new RegistryClient({ baseUrl: dist.url, credentials: { username: "alice", password: "wonderland" } });
  for (const b of [img.config, ...img.layers]) await pusher.pushBlob("team/app", b);
  await pusher.putManifest("team/app", "v1", img.manifest, MediaType.ociManifest);

  const proxy = (password: string): ReturnType<typeof startRegistry> =>
    startRegistry({}, (o) => createPullThroughServer({ ...o, remoteUrl: dist.url, username: "alice", password, maxAttempts: 1 }));
  const wrong = await proxy("looking-glass");
  try {
    for (const path of ["team/app/manifests/v1", `team/app/manifests/${img.manifestDigest}`, `team/app/blobs/${digestOf(img.layers[0] ?? "")}`]) {
      assert.deepEqual(await answer(`${wrong.url}/v2/${path}`), {
        status: 502, code: "UNKNOWN", message: `upstream registry ${dist.url} refused the proxy's credentials for user "alice"`,
      }, path);
    }
  } finally {
    await wrong.close();
  }
  const right = await proxy("wonderland");
  try {
    const res = await fetch(`${right.url}/v2/team/app/manifests/v1`);
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(img.manifest));
    const absent = await answer(`${right.url}/v2/team/nothere/manifests/v1`);
    assert.equal(absent.status, 404, JSON.stringify(absent));
  } finally {
    await right.close();
  }
});
