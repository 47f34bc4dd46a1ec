/**
 * `kubectl attach -i` through the API server's proxy and the kubelet's server to a real container
 * made with stdin and stdinOnce: the lines typed reach it, its answers come back, and the end of
 * kubectl's stdin is the container's EOF; attach ends when the container exits.
 */
import assert from "node:assert/strict";
import { access } from "node:fs/promises";
import { after, before, test } from "node:test";
import { KUBECTL, kubectl } from "../helpers/kubectl.js";
import { startKubeletStack } from "../helpers/kubelet-stack.js";
import { openRuntimeFixture, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture | undefined;
let skip: string | undefined;

before(async () => {
  if (process.getuid?.() !== 0) skip = "needs root to run containers";
  else {
    try {
      await access(KUBECTL);
      fx = await openRuntimeFixture();
    } catch (err) {
      skip = `no container stack here: ${(err as Error).message}`;
    }
  }
});
after(async () => {
  await fx?.close();
});

test("kubectl attach -i: typed lines reach the container and its answers come back; the end of stdin is its EOF", { timeout: 120_000 }, async (t) => {
  if (skip || !fx) {
    process.stderr.write(`skipping: ${skip}\n`);
    return t.skip(skip);
  }
  const s = await startKubeletStack(t, fx, {
    command: ["sh", "-c", "while read line; do echo \"got $line\"; done; echo bye; exit 4"], stdin: true, stdinOnce: true,
  });
  if (!s) return;
  const r = await kubectl(s.api.env, ["attach", "-i", s.podName, "-c", "main"], "one\ntwo\n");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /got one\ngot two\nbye\n$/);
  // stdinOnce: the container saw EOF, answered bye and exited; attach ended with it
  const { status } = await s.rt.containerStatus(s.containerId);
  assert.equal(status.state, "CONTAINER_EXITED");
  assert.equal(status.exitCode, 4);
});
