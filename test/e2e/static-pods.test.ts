/** `podyard up --pod-manifest-path DIR`: a manifest in DIR runs as a static pod, mirrored in the API as NAME-NODE. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killLeftoverChildren } from "../helpers/run-tool.js";
import { cleanupImages, needKubectl, ok, pushAlpine, startUp, waitFor } from "./helpers/node.js";

after(killLeftoverChildren);
after(cleanupImages);

test("a static pod from --pod-manifest-path runs and shows up as a mirror pod", async (t) => {
  if (!needKubectl(t, "static-pods.test.ts")) return;
  const dir = await mkdtemp(join(tmpdir(), "podyard-manifests-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const node = await startUp(t, { extraArgs: ["--pod-manifest-path", dir] });
  await pushAlpine(t, node);
  await writeFile(join(dir, "static-web.yaml"), [
    "apiVersion: v1", "kind: Pod", "metadata:", "  name: static-web", "spec:", "  containers:", "  - name: app", "    image: alpine",
    "    command: ['sh', '-c', 'echo static; sleep 3600']", "",
  ].join("\n"));
  const phase = await waitFor("the mirror pod Running", async () => {
    const r = await node.kubectl(["get", "pod", "static-web-node1", "-o", "jsonpath={.status.phase}"]);
    return r.stdout === "Running" ? r.stdout : undefined;
  }, 120_000, 250);
  assert.equal(phase, "Running");
  assert.match(ok(await node.kubectl(["get", "pod", "static-web-node1", "-o", "jsonpath={.metadata.annotations}"]), "annotations"), /kubernetes\.io\/config\.mirror/);
  const logs = await waitFor("its log", async () => {
    const r = await node.kubectl(["logs", "static-web-node1"]);
    return r.stdout.includes("static") ? r.stdout : undefined;
  });
  assert.equal(logs, "static\n");
  // the kubelet records events against the static pod (its UID is the manifest hash, the mirror
  // pod's config.mirror annotation); kubectl describe of the mirror pod looks them up by that UID
  const described = await waitFor("describe to show the kubelet's events", async () => {
    const r = await node.kubectl(["describe", "pod", "static-web-node1"]);
    return /Started\s+\S+\s+kubelet\s+Started container app/.test(r.stdout) ? r.stdout : undefined;
  }, 30_000, 250).catch(async (err: unknown) => {
    const r = await node.kubectl(["describe", "pod", "static-web-node1"]);
    const ev = await node.kubectl(["get", "events", "-o", "wide"]);
    throw new Error(`${String(err)}\ndescribe:\n${r.stdout}${r.stderr}\nevents:\n${ev.stdout}`);
  });
  assert.match(described, /Pulled\s+\S+\s+kubelet\s+/);
});
