import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { parseNormalizedNamed } from "../../../src/reference/index.js";
import { RegistryClient, RegistryHosts, Resolver } from "../../../src/registry/client/index.js";
import { startRegistry } from "../../helpers/registry.js";
import { certOrSkip } from "../../helpers/tls-cert.js";

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test("a registry with a self-signed certificate is refused, and with skipVerify in hosts.json pushed to and pulled from", async (t) => {
  const cert = await certOrSkip(t, "insecure-https.test.ts");
  if (!cert) return;
  const reg = await startRegistry({ tls: { cert: cert.cert, key: cert.key } });
  try {
    const host = new URL(reg.url).host;
    const ref = parseNormalizedNamed(`${host}/app:v1`);
    // HTTPS (loopback registries default to plain HTTP), certificate checked: refused
    const checked = new Resolver({ maxAttempts: 1, hosts: new RegistryHosts({ [host]: { insecure: false } }) });
    await assert.rejects(checked.puller(ref).resolve(), (err: Error) => {
      assert.match(`${err.message} ${String(err.cause)}`, /self[- ]signed/i);
      return true;
    });

    const resolver = new Resolver({ hosts: new RegistryHosts({ [host]: { insecure: false, skipVerify: true } }) });
    const pusher = await resolver.pusher(ref);
    const layer = randomBytes(3 << 20);
    const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [digestOf(layer)] } }));
    // a streamed body (chunked upload) and a buffer (monolithic)
    assert.equal((await pusher.pushBlob("app", Readable.from([layer.subarray(0, 1 << 20), layer.subarray(1 << 20)]), { digest: digestOf(layer), size: layer.length })).digest, digestOf(layer));
    await pusher.pushBlob("app", config, { digest: digestOf(config), size: config.length });
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: MediaType.ociLayer, digest: digestOf(layer), size: layer.length }],
    }));
    assert.equal(await pusher.putManifest("app", "v1", manifest, MediaType.ociManifest), digestOf(manifest));

    const puller = resolver.puller(ref);
    assert.equal((await puller.resolve()).digest, digestOf(manifest));
    assert.ok((await puller.getManifest(digestOf(manifest))).bytes.equals(manifest));
    assert.ok((await collect(await puller.fetchBlob(digestOf(layer), { size: layer.length }))).equals(layer));
    await assert.rejects(puller.fetchBlob(digestOf("not there")), /not found|unknown/i);
  } finally {
    await reg.close();
  }
});

test("a certificate the client refuses is not retried: one connection, and the error says why", async (t) => {
  const cert = await certOrSkip(t, "insecure-https.test.ts");
  if (!cert) return;
  const reg = await startRegistry({ tls: { cert: cert.cert, key: cert.key } });
  try {
    let connections = 0;
    reg.server.server.on("connection", () => connections++);
    const host = new URL(reg.url).host;
    const client = new RegistryClient({ baseUrl: reg.url, maxAttempts: 5 });
    await assert.rejects(client.ping(), (err: Error) => {
      assert.equal(err.message, `cannot reach registry ${host}: GET /v2/: self-signed certificate`);
      return true;
    });
    assert.equal(connections, 1, "one connection, not five");
  } finally {
    await reg.close();
  }
});
