/** `npm run tutorial`: the whole tutorial, with the real kubectl, leaves nothing behind. */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { killLeftoverChildren } from "../helpers/run-tool.js";
import { needKubectl, runPodyard } from "./helpers/node.js";

after(killLeftoverChildren);

test("the tutorial runs end to end and cleans up", async (t) => {
  if (!needKubectl(t, "tutorial.test.ts")) return;
  const r = await runPodyard(["tutorial"], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
  const text = r.stdout;
  assert.match(text, /^\$ kubectl apply -f \S+shared-volume-pod\.yaml\n {2}pod\/shared-volume-pod created$/m);
  assert.match(text, /^\$ kubectl get pods\n {2}NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\n( {2}.*\n)*? {2}network-test-pod\s+2\/2\s+Running/m);
  assert.match(text, /^\$ kubectl exec shared-volume-pod -c container-b -- cat \/mnt\/vol\/message\n {2}Hello from A$/m);
  assert.match(text, /^\$ kubectl exec network-test-pod -c container-b -- nc localhost 8080\n {2}Hello from A$/m);
  assert.match(text, /Pulling\s+.*Pulling image "alpine"/);
  assert.match(text, /podyard down: stopped the node/);
  const work = /everything lives in (\S+)/.exec(text)?.[1];
  assert.ok(work);
  assert.equal(existsSync(work), false, "the temporary home is removed");
});
