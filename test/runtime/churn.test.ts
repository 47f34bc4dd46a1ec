/** Many pods created and removed, some at once: nothing is left behind, and the pod IPs are unique while the pods live. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

test("30 pods, 10 at a time: unique IPs, all running, then nothing left", async () => {
  const rt = await fx.newRuntime();
  const started = Date.now();
  const sandboxes: string[] = [];
  for (let batch = 0; batch < 3; batch++) {
    const ids = await Promise.all(Array.from({ length: 10 }, async () => {
      const pod = podConfig();
      const sb = await rt.runPodSandbox(pod);
      const c = await rt.createContainer(sb, containerConfig(fx.image, "main", { command: ["sleep", "3600"] }), pod);
      await rt.startContainer(c);
      return sb;
    }));
    sandboxes.push(...ids);
  }
  const ips = await Promise.all(sandboxes.map(async (sb) => (await rt.podSandboxStatus(sb)).status.network?.ip));
  assert.equal(new Set(ips).size, 30);
  assert.equal((await rt.listContainers({ state: { state: "CONTAINER_RUNNING" } })).length, 30);
  const up = Date.now() - started;
  await Promise.all(sandboxes.map((sb) => rt.removePodSandbox(sb)));
  // a diagnostic only, never asserted: timings vary with the machine
  console.log(`# 30 pods up in ${up} ms, removed in ${Date.now() - started - up} ms`);
  const home = join(fx.node.home, "runtime");
  assert.deepEqual(await readdir(join(home, "sandboxes")), []);
  assert.deepEqual(await readdir(join(home, "containers")), []);
  assert.doesNotMatch(await readFile("/proc/self/mountinfo", "utf8"), new RegExp(home.replace(/[/.]/g, "\\$&")));
  const own = (await readFile("/proc/self/cgroup", "utf8")).split("\n").find((l) => l.split(":")[1] === "memory")?.split(":")[2] ?? "/";
  for (const h of await readdir("/sys/fs/cgroup")) {
    const left = await readdir(join("/sys/fs/cgroup", h, own, "podyard")).catch(() => [] as string[]);
    assert.deepEqual(left.filter((n) => sandboxes.includes(n)), [], `cgroups left in ${h}`);
  }
  assert.deepEqual((await fx.node.env.snapshotter.walk()).filter((s) => s.kind === "active"), []);
});
