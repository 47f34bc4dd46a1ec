/** init() after a crash: half-made sandboxes and containers are removed; an image for another platform is refused. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MediaType } from "../../src/oci/index.js";
import { pushBlob, startRegistry, type TestRegistry } from "../helpers/registry.js";
import { cleanupSandbox, containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
let reg: TestRegistry;
before(async () => {
  fx = await openRuntimeFixture();
  reg = await startRegistry();
});
after(async () => {
  await fx.close();
  await reg.close();
});

test("init removes a sandbox without a record (namespace files mounted) and a container without one (rootfs mounted)", async () => {
  const rt = await fx.newRuntime();
  const runtime = join(fx.node.home, "runtime");
  // a sandbox cut short after its namespaces were made
  const sbDir = join(runtime, "sandboxes", "f".repeat(64));
  await mkdir(join(sbDir, "ns"), { recursive: true });
  await writeFile(join(sbDir, "ns", "net"), "");
  execFileSync("unshare", [`--net=${join(sbDir, "ns", "net")}`, "true"]);
  // a container cut short after its rootfs was mounted
  const ctrDir = join(runtime, "containers", "e".repeat(64));
  await mkdir(join(ctrDir, "rootfs"), { recursive: true });
  await mkdir(join(ctrDir, "src"));
  execFileSync("mount", ["--bind", join(ctrDir, "src"), join(ctrDir, "rootfs")]);
  assert.match(await readFile("/proc/self/mountinfo", "utf8"), new RegExp("f".repeat(64)));

  const rt2 = await fx.newRuntime();
  const info = await readFile("/proc/self/mountinfo", "utf8");
  assert.doesNotMatch(info, new RegExp("f".repeat(64)));
  assert.doesNotMatch(info, new RegExp("e".repeat(64)));
  assert.deepEqual((await readdir(join(runtime, "sandboxes"))).filter((n) => n === "f".repeat(64)), []);
  assert.deepEqual((await readdir(join(runtime, "containers"))).filter((n) => n === "e".repeat(64)), []);
  assert.deepEqual(await rt2.listPodSandbox(), []);
  void rt;
});

test("an image for another platform is refused at createContainer with containerd's message", async (t) => {
  const config = Buffer.from(JSON.stringify({ architecture: "arm64", os: "linux", config: { Cmd: ["/bin/sh"] }, rootfs: { type: "layers", diff_ids: [] } }));
  const configDigest = await pushBlob(reg.url, "pods/arm", config);
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociManifest, config: { mediaType: MediaType.ociConfig, digest: configDigest, size: config.length }, layers: [] }));
  const res = await fetch(`${reg.url}/v2/pods/arm/manifests/v1`, { method: "PUT", headers: { "Content-Type": MediaType.ociManifest }, body: new Uint8Array(manifest) });
  assert.equal(res.status, 201);
  const image = `${new URL(reg.url).host}/pods/arm:v1`;
  const pulled = await fx.node.env.imageService.pull(image).then(() => true as const, (err: Error) => err);
  if (pulled !== true) {
    t.diagnostic(`the puller itself refuses it: ${pulled.message}`);
    return;
  }
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  await assert.rejects(rt.createContainer(sb, containerConfig(image, "arm"), pod),
    new RegExp(`image with reference ${image.replace(/[.:/]/g, "\\$&")} was found but does not match the specified platform: wanted linux/amd64, actual: linux/arm64`));
});
