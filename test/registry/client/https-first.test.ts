/**
 * Loopback registries are tried over HTTPS first (certificate not checked), then plain
 * HTTP, and what each host speaks is found once: against podyard's registry with a
 * self-signed certificate and without TLS.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { digestOf } from "../../../src/oci/index.js";
import { parseNormalizedNamed } from "../../../src/reference/index.js";
import { RegistryClient, RegistryHosts, Resolver, SchemeProbe, httpsFirst } from "../../../src/registry/client/index.js";
import { distributionMissing, startDistribution } from "../../helpers/distribution.js";
import { certOrSkip } from "../../helpers/tls-cert.js";
import { collect, makeImage, startRegistry, type RunningRegistry } from "./fixtures.js";

async function pushAndPull(resolver: Resolver, host: string): Promise<void> {
  const ref = parseNormalizedNamed(`${host}/app:v1`);
  const img = makeImage([1024, 2 << 20]);
  const pusher = await resolver.pusher(ref);
  for (const b of [img.config, ...img.layers]) await pusher.pushBlob("app", b);
  assert.equal(await pusher.putManifest("app", "v1", img.manifest, "application/vnd.oci.image.manifest.v1+json"), img.manifestDigest);
  const puller = resolver.puller(ref);
  assert.equal((await puller.resolve()).digest, img.manifestDigest);
  assert.ok((await puller.getManifest(img.manifestDigest)).bytes.equals(img.manifest));
  const layer = img.layers[1] as Buffer;
  assert.ok((await collect(await puller.fetchBlob(digestOf(layer), { size: layer.length }))).equals(layer));
}

/** Counts the connections that opened with a TLS handshake on a plain-HTTP registry (each one a probe). */
function countHandshakes(reg: RunningRegistry): { readonly count: number } {
  const seen = { count: 0 };
  reg.server.server.on("connection", (socket) => {
    socket.once("data", (chunk: Buffer) => {
      if (chunk[0] === 0x16) seen.count++; // a TLS record of type handshake
    });
  });
  return seen;
}

test("a loopback registry with a self-signed certificate is pushed to, pulled from and logged in to with no settings", async (t) => {
  const cert = await certOrSkip(t, "https-first.test.ts");
  if (!cert) return;
  const reg = await startRegistry({ tls: { cert: cert.cert, key: cert.key } });
  try {
    assert.match(reg.url, /^https:/);
    await pushAndPull(new Resolver({ schemeProbe: new SchemeProbe() }), reg.host);
    // what `podyard login` does: a client for the host alone
    await new RegistryClient({ host: reg.host, maxAttempts: 1, schemeProbe: new SchemeProbe() }).ping();
  } finally {
    await reg.close();
  }
});

test("docker-registry serving TLS on loopback (absolute upload Locations over https) is pushed to and pulled from with no settings", async (t) => {
  const missing = await distributionMissing();
  if (missing !== undefined) return t.skip(missing);
  const cert = await certOrSkip(t, "https-first.test.ts");
  if (!cert) return;
  const dir = await mkdtemp(join(tmpdir(), "podyard-dist-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const dist = await startDistribution(dir, { tls: { certFile: cert.certFile, keyFile: cert.keyFile }, logLevel: "error" });
  t.after(() => dist.stop());
  assert.match(dist.url, /^https:/);
  await pushAndPull(new Resolver({ schemeProbe: new SchemeProbe() }), dist.host);
});

test("hosts.json skipVerify alone (no insecure) on a loopback TLS registry works", async (t) => {
  const cert = await certOrSkip(t, "https-first.test.ts");
  if (!cert) return;
  const reg = await startRegistry({ tls: { cert: cert.cert, key: cert.key } });
  try {
    const hosts = RegistryHosts.parse(JSON.stringify({ [reg.host]: { skipVerify: true } }), "hosts.json");
    await pushAndPull(new Resolver({ hosts, schemeProbe: new SchemeProbe() }), reg.host);
  } finally {
    await reg.close();
  }
});

test("a plain-HTTP loopback registry costs one TLS handshake per host for all the probe's clients, then speaks HTTP", async () => {
  const reg = await startRegistry();
  try {
    const handshakes = countHandshakes(reg);
    const probe = new SchemeProbe();
    await pushAndPull(new Resolver({ schemeProbe: probe }), reg.host);
    await pushAndPull(new Resolver({ schemeProbe: probe }), reg.host);
    await new RegistryClient({ host: reg.host, schemeProbe: probe }).ping();
    assert.equal(handshakes.count, 1);
    assert.equal(probe.known(reg.host), "http");
  } finally {
    await reg.close();
  }
});

test("HTTPS first for loopback hosts only, and not when hosts.json says insecure either way", () => {
  const hosts = new RegistryHosts({
    "127.0.0.1:5001": { insecure: true },
    "127.0.0.1:5002": { insecure: false },
    "docker.io": { mirrors: [{ url: "127.0.0.1:5003" }, { url: "http://127.0.0.1:5004" }, { url: "127.0.0.1:5005", insecure: true }] },
  });
  const first = (host: string): boolean[] => hosts.endpoints(host, "pull").map((e) => e.httpsFirst);
  assert.deepEqual(first("127.0.0.1:5000"), [true]);
  assert.deepEqual(first("localhost:5000"), [true]);
  assert.deepEqual(first("[::1]:5000"), [true]);
  assert.deepEqual(first("127.0.0.1:5001"), [false]);
  assert.deepEqual(first("127.0.0.1:5002"), [false]);
  assert.deepEqual(first("registry.example.com"), [false]);
  assert.deepEqual(first("10.0.0.1:5000"), [false]);
  assert.deepEqual(first("docker.io"), [true, false, false, false]);
  assert.equal(httpsFirst("quay.io"), false);
  assert.equal(httpsFirst("127.0.0.1"), true);
  assert.equal(httpsFirst("127.0.0.1", { insecure: true }), false);
});

test("a loopback port nothing listens on is unreachable, and nothing is remembered for it", async () => {
  const reg = await startRegistry();
  const host = reg.host;
  await reg.close();
  const probe = new SchemeProbe();
  const client = new RegistryClient({ host, maxAttempts: 1, schemeProbe: probe });
  await assert.rejects(client.ping(), (err: Error) => /cannot reach registry/.test(err.message) && /ECONNREFUSED/.test(err.message));
  assert.equal(probe.known(host), undefined);
});
