/**
 * Stopping `podyard up` (what `podyard down` does) stops each pod's containers the way a
 * kubelet does: SIGTERM first and the pod's grace period, so a container's TERM handler runs
 * (it used to get SIGKILL); its log stays on disk.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { killLeftoverChildren } from "../helpers/run-tool.js";
import { cleanupImages, needKubectl, ok, pushAlpine, startUp, waitFor, waitPodReady } from "./helpers/node.js";

after(killLeftoverChildren);
after(cleanupImages);
const FILE = "down-grace.test.ts";

test("stopping the node gives each container SIGTERM and its grace period before removing it", async (t) => {
  if (!needKubectl(t, FILE)) return;
  const node = await startUp(t);
  await pushAlpine(t, node);
  const manifest = [
    "apiVersion: v1", "kind: Pod", "metadata:", "  name: graceful", "spec:", "  terminationGracePeriodSeconds: 20", "  containers:", "  - name: app", "    image: alpine",
    "    command: ['sh', '-c', 'trap \"echo got SIGTERM; exit 0\" TERM; echo started; while true; do sleep 0.2; done']", "",
  ].join("\n");
  ok(await node.kubectl(["apply", "-f", "-"], { input: manifest }), "apply");
  await waitPodReady(node, "graceful");
  const logs = join(node.home, "log", "pods");
  const dir = await waitFor("the pod's log folder", async () => (await readdir(logs)).find((d) => d.startsWith("default_graceful_")));
  const logFile = join(logs, dir, "app", "0.log");
  await waitFor("the container to start", async () => ((await readFile(logFile, "utf8")).includes("started") ? true : undefined));
  assert.equal(await node.stop("SIGTERM"), 0, node.output());
  const log = await readFile(logFile, "utf8");
  assert.match(log, /stdout F got SIGTERM/, `the container's TERM handler ran; its log:\n${log}`);
});
