/** Static pods from a manifest folder: UID from the content, a mirror pod in the API, gone with the file. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Pod } from "../../src/api/index.js";
import { FakeClock } from "../../src/clock/index.js";
import type { ImageService } from "../../src/images/index.js";
import { Kubelet, KubeClient, MIRROR_ANNOTATION, staticPodFromManifest } from "../../src/kubelet/index.js";
import { FakeApiServer } from "./fake-apiserver.js";
import { FakeImages, FakeRuntime, fakeHelpers } from "./fake-runtime.js";

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const MANIFEST = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: busybox:1.36\n";

test("a static pod's UID is a hash of manifest, node and file; its name ends in the node's", () => {
  const a = staticPodFromManifest({ metadata: { name: "web" }, spec: { containers: [{ name: "c", image: "x" }] } }, "/m/web.yaml", "n1", 0);
  const b = staticPodFromManifest({ metadata: { name: "web" }, spec: { containers: [{ name: "c", image: "x" }] } }, "/m/web.yaml", "n1", 5000);
  const c = staticPodFromManifest({ metadata: { name: "web" }, spec: { containers: [{ name: "c", image: "y" }] } }, "/m/web.yaml", "n1", 0);
  assert.match(a.metadata.uid ?? "", /^[0-9a-f]{32}$/);
  assert.equal(a.metadata.uid, b.metadata.uid);
  assert.notEqual(a.metadata.uid, c.metadata.uid);
  assert.equal(a.metadata.name, "web-n1");
  assert.equal(a.spec.nodeName, "n1");
  assert.equal(a.spec.containers[0]?.imagePullPolicy, "Always");
  assert.equal(a.metadata.annotations?.["kubernetes.io/config.source"], "file");
});

test("the kubelet runs a manifest's pod, mirrors it in the API with its status, and removes both when the file goes", async (t) => {
  const api = new FakeApiServer();
  await api.start();
  const home = await mkdtemp(join(tmpdir(), "kubelet-static-"));
  const manifests = join(home, "manifests");
  await mkdir(manifests);
  await writeFile(join(manifests, "web.yaml"), MANIFEST);
  const clock = new FakeClock(Date.parse("2026-12-03T10:00:00Z"));
  const rt = new FakeRuntime(clock);
  const images = new FakeImages();
  const client = new KubeClient({ server: api.url });
  const k = new Kubelet({ client, nodeName: "n1", runtime: rt, imageService: images as unknown as ImageService, imageManager: images, home, clock, helpers: fakeHelpers, podManifestPath: manifests, log: () => {} });
  t.after(async () => {
    await k.stop();
    client.close();
    await api.close();
    await rm(home, { recursive: true, force: true });
  });
  await k.start();
  const mirror = (): Pod | undefined => api.get("/api/v1/namespaces/default/pods/web-n1") as Pod | undefined;
  await until(() => mirror() !== undefined, "mirror pod");
  const m = mirror();
  assert.match(m?.metadata.annotations?.[MIRROR_ANNOTATION] ?? "", /^[0-9a-f]{32}$/);
  assert.notEqual(m?.metadata.uid, m?.metadata.annotations?.[MIRROR_ANNOTATION], "the mirror has its own UID");
  await until(() => mirror()?.status?.phase === "Running", "mirror status Running");
  assert.equal(rt.calls.filter((c) => c === "runPodSandbox web-n1").length, 1, "the mirror itself is not run");
  await rm(join(manifests, "web.yaml"));
  for (let i = 0; i < 25 && (mirror() || rt.boxes.size > 0); i++) {
    clock.step(1000);
    for (let j = 0; j < 6; j++) await tick();
  }
  await until(() => !mirror() && rt.boxes.size === 0, "mirror and sandbox gone");
  assert.ok(rt.calls.includes("stopContainer app 30"));
});
