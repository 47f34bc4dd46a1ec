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
});
