/**
 * The registry on a full disk: its storage root on a real 4 MiB tmpfs, filled up. Every
 * write a client asks for (a manifest, an upload, a chunk) answers 507 Insufficient
 * Storage, UNKNOWN, "no space left on the registry's storage": not TOOMANYREQUESTS (which
 * tells clients to wait and retry a rate limit) and never the server's path. podyard's
 * client does not retry it and names the registry; skopeo shows the message. Needs root.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { RegistryClient } from "../../../src/registry/client/index.js";
import { pushImage, startRegistry } from "../../helpers/registry.js";
import { describeRun, haveTool, runTool } from "../../helpers/run-tool.js";
import { fillDisk, withTmpfs } from "../../helpers/tmpfs.js";
import { makeImage } from "../client/fixtures.js";

const FULL = { errors: [{ code: "UNKNOWN", message: "no space left on the registry's storage" }] };

test("a full disk answers 507 UNKNOWN without the path; podyard's client does not retry it, skopeo shows why", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to mount a tmpfs");
    return;
  }
  const source = await startRegistry();
  t.after(() => source.close());
  await pushImage(source.url, "src/app", "v1", ["a layer that the full registry has no room for"]);

  await withTmpfs("4m", async (mnt) => {
    const root = join(mnt, "registry");
    const reg = await startRegistry({ root });
    try {
      const host = new URL(reg.url).host;
      const img = makeImage([100]);
      const client = new RegistryClient({ baseUrl: reg.url });
      for (const b of [img.config, ...img.layers]) await client.pushBlob("full/app", b);
      await fillDisk(join(mnt, "filler"));

      const answers = [
        await fetch(`${reg.url}/v2/full/app/manifests/v1`, {
          method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body: new Uint8Array(img.manifest),
        }),
        await fetch(`${reg.url}/v2/full/app/blobs/uploads/`, { method: "POST" }),
      ];
      for (const res of answers) {
        const body = await res.text();
        assert.equal(res.status, 507, body);
        assert.deepEqual(JSON.parse(body), FULL);
        assert.ok(!body.includes(mnt), `no server path in ${body}`);
      }

      // the client sends the manifest once, and says which registry is full and what it refused
      let puts = 0;
      const counting = new RegistryClient({
        baseUrl: reg.url,
        fetch: (input, init) => {
          if (init?.method === "PUT") puts++;
          return fetch(input, init);
        },
      });
      await assert.rejects(counting.putManifest("full/app", "v1", img.manifest, MediaType.ociManifest), (err: Error) => {
        assert.equal(err.message,
          `insufficient storage: registry ${host} has no room to push manifest full/app:v1: no space left on the registry's storage (UNKNOWN)`);
        return true;
      });
      assert.equal(puts, 1, "507 is not retried");
      assert.equal(await fetch(`${reg.url}/v2/full/app/manifests/${digestOf(img.manifest)}`).then((r) => r.status), 404, "nothing stored");

      if (await haveTool(t, "skopeo")) {
        const sourceHost = new URL(source.url).host;
        const r = await runTool("skopeo", [
          "--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--retry-times=0",
          `docker://${sourceHost}/src/app:v1`, `docker://${host}/full/copy:v1`,
        ], { timeoutMs: 60_000 });
        assert.notEqual(r.code, 0, describeRun("skopeo", ["copy"], r));
        assert.match(r.stderr, /507|no space left on the registry's storage/, describeRun("skopeo", ["copy"], r));
        assert.doesNotMatch(r.stderr, /toomanyrequests|too many requests/i);
        assert.ok(!r.stderr.includes(mnt), r.stderr);
      }
    } finally {
      await reg.close();
      await rm(root, { recursive: true, force: true });
    }
  });
});
