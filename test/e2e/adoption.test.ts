/**
 * After `podyard up` is killed with SIGKILL and started again on its home, the pod's running
 * containers are adopted: the same container IDs, no restart, and exec still reaches them.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEED_PODS } from "../../src/cli/tutorial/seed-pods.js";
import { killLeftoverChildren } from "../helpers/run-tool.js";
import { cleanupImages, needKubectl, ok, pushAlpine, runPodyard, startUp, waitFor, waitPodReady } from "./helpers/node.js";

after(killLeftoverChildren);
after(cleanupImages);

test("a SIGKILLed podyard up adopts its running containers when it starts again", async (t) => {
  if (!needKubectl(t, "adoption.test.ts")) return;
  const home = await mkdtemp(join(tmpdir(), "podyard-adopt-"));
  t.after(async () => {
    await runPodyard(["down", "--home", home], { timeoutMs: 120_000 });
    await rm(home, { recursive: true, force: true });
  });
  const first = await startUp(t, { home });
  await pushAlpine(t, first);
  const dir = await mkdtemp(join(tmpdir(), "podyard-pods-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "pod.yaml"), SEED_PODS["shared-volume-pod.yaml"]);
  ok(await first.kubectl(["apply", "-f", join(dir, "pod.yaml")]), "apply");
  await waitPodReady(first, "shared-volume-pod");
  const ids = ok(await first.kubectl(["get", "pod", "shared-volume-pod", "-o", "jsonpath={.status.containerStatuses[*].containerID}"]), "ids");
  assert.equal(await first.stop("SIGKILL"), null);

  const second = await startUp(t, { home });
  await waitPodReady(second, "shared-volume-pod");
  const after2 = await waitFor("the statuses written by the new kubelet", async () => {
    const r = await second.kubectl(["get", "pod", "shared-volume-pod", "-o", "jsonpath={.status.containerStatuses[*].containerID} {.status.containerStatuses[*].restartCount}"]);
    return r.code === 0 && r.stdout.startsWith(ids) ? r.stdout : undefined;
  });
  assert.equal(after2, `${ids} 0 0`);
  assert.equal(ok(await second.kubectl(["exec", "shared-volume-pod", "-c", "container-b", "--", "cat", "/mnt/vol/message"]), "exec"), "Hello from A\n");
});
