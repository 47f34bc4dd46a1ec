/**
 * Interop with the peer server, Debian's docker-registry (CNCF distribution 2.8.2), with
 * htpasswd Basic auth. Skips with a reason when the binary is absent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { access, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import bcrypt from "bcryptjs";
import { UnauthenticatedError } from "../../../src/errdefs/index.js";
import { digestOf, MediaType } from "../../../src/oci/index.js";
import { RegistryClient } from "../../../src/registry/client/index.js";
import { collect, makeImage } from "./fixtures.js";

const BINARY = "/usr/bin/docker-registry";

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function present(): Promise<boolean> {
  try {
    await access(BINARY);
    return true;
  } catch {
    return false;
  }
}

test("round trip against docker-registry 2.8 with htpasswd Basic auth", async (t) => {
  if (!(await present())) {
    t.skip(`${BINARY} is not installed (Debian package docker-registry)`);
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "podyard-distribution-"));
  let child: ChildProcess | undefined;
  try {
    const port = await freePort();
    await writeFile(join(dir, "htpasswd"), `alice:${bcrypt.hashSync("s3cret", 10)}\n`);
    await writeFile(join(dir, "config.yml"), [
      "version: 0.1",
      "log: { level: error }",
      `storage: { filesystem: { rootdirectory: ${join(dir, "data")} } }`,
      `http: { addr: "127.0.0.1:${port}" }`,
      `auth: { htpasswd: { realm: podyard-test, path: ${join(dir, "htpasswd")} } }`,
      "",
    ].join("\n"));
    child = spawn(BINARY, ["serve", join(dir, "config.yml")], { stdio: "ignore" });
    const host = `127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const up = await fetch(`http://${host}/v2/`).then((r) => r.status === 401, () => false);
      if (up) break;
      if (i > 200) assert.fail("docker-registry did not start");
      await delay(25);
    }

    await assert.rejects(new RegistryClient({ host }).ping(), UnauthenticatedError);
    const client = new RegistryClient({ host, credentials: { username: "alice", password: "s3cret" } });
    await client.ping();
    const img = makeImage([100, 200 * 1024]);
    for (const b of [img.config, ...img.layers]) await client.pushBlob("team/app", b);
    assert.equal(await client.putManifest("team/app", "v1", img.manifest, MediaType.ociManifest), img.manifestDigest);
    assert.deepEqual(await client.resolve("team/app", "v1"), { mediaType: MediaType.ociManifest, digest: img.manifestDigest, size: img.manifest.length });
    assert.ok((await client.getManifest("team/app", img.manifestDigest)).bytes.equals(img.manifest));
    for (const b of [img.config, ...img.layers]) assert.ok((await collect(await client.fetchBlob("team/app", digestOf(b)))).equals(b));
    assert.equal(await client.mountBlob("team/other", digestOf(img.config), "team/app"), true);
    assert.deepEqual(await client.tags("team/app"), ["v1"]);
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child?.once("exit", resolve));
      child.kill();
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
});
