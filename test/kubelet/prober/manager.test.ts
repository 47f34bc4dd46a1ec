import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../../../src/api/index.js";
import { FakeClock } from "../../../src/clock/index.js";
import { EventRecorder } from "../../../src/kubelet/index.js";
import { ProbeManager } from "../../../src/kubelet/prober/manager.js";
import { LABEL_CONTAINER_NAME, LABEL_POD_UID } from "../../../src/kubelet/runtime-state.js";
import type { RuntimeService } from "../../../src/runtime/index.js";

test("a removed pod's probe results are forgotten with it", async () => {
  const clock = new FakeClock(0);
  const runtime = {
    listContainers: async () => [{
      id: "c1", podSandboxId: "s1", metadata: { name: "app" }, image: { image: "busybox" }, imageRef: "", state: "CONTAINER_RUNNING", createdAt: 1n,
      labels: { [LABEL_POD_UID]: "u-1", [LABEL_CONTAINER_NAME]: "app" }, annotations: {},
    }],
    execSync: async () => ({ stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), exitCode: 0 }),
  } as unknown as RuntimeService;
  const recorder = new EventRecorder({ client: {} as never, host: "n1", clock, onError: () => {} });
  let results = 0;
  let seen: () => void = () => {};
  const m = new ProbeManager({ runtime, clock, recorder, onResult: () => { if (++results === 1) seen(); } });
  const pod: Pod = {
    metadata: { name: "web", namespace: "default", uid: "u-1" },
    spec: { containers: [{ name: "app", readinessProbe: { exec: { command: ["true"] }, periodSeconds: 10 } }] },
  };
  const ready = new Promise<void>((r) => (seen = r));
  m.addPod(pod);
  await ready;
  assert.notEqual(m.result("c1", "readiness"), undefined);
  m.removePod("u-1");
  assert.equal(m.result("c1", "readiness"), undefined);
  m.stop();
});
