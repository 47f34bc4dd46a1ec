/** Many pods created and removed, some at once: nothing is left behind, and the pod IPs are unique while the pods live. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

test("200 pods created and removed, 20 at a time: unique IPs while they live, then no mount, cgroup, process, namespace file or state directory left", async () => {
  const rt = await fx.newRuntime();
  const started = Date.now();
  const all: string[] = [];
  for (let round = 0; round < 10; round++) {
    const sandboxes = await Promise.all(Array.from({ length: 20 }, async () => {
      const pod = podConfig();
      const sb = await rt.runPodSandbox(pod);
      const c = await rt.createContainer(sb, containerConfig(fx.image, "main", { command: ["sleep", "3600"] }), pod);
      await rt.startContainer(c);
      return sb;
    }));
    all.push(...sandboxes);
    const ips = await Promise.all(sandboxes.map(async (sb) => (await rt.podSandboxStatus(sb)).status.network?.ip));
    assert.equal(new Set(ips).size, 20, `round ${round}: pod IPs are unique`);
    assert.equal((await rt.listContainers({ state: { state: "CONTAINER_RUNNING" } })).length, 20);
    await Promise.all(sandboxes.map((sb) => rt.removePodSandbox(sb)));
  }
  // a diagnostic only, never asserted: timings vary with the machine
  console.log(`# 200 pods up and removed in ${Date.now() - started} ms`);
  const home = join(fx.node.home, "runtime");
  assert.deepEqual(await readdir(join(home, "sandboxes")), []);
  assert.deepEqual(await readdir(join(home, "containers")), []);
  assert.doesNotMatch(await readFile("/proc/self/mountinfo", "utf8"), new RegExp(home.replace(/[/.]/g, "\\$&")));
  const own = (await readFile("/proc/self/cgroup", "utf8")).split("\n").find((l) => l.split(":")[1] === "memory")?.split(":")[2] ?? "/";
  for (const h of await readdir("/sys/fs/cgroup")) {
    const left = await readdir(join("/sys/fs/cgroup", h, own, "podyard")).catch(() => [] as string[]);
    assert.deepEqual(left.filter((n) => all.includes(n)), [], `cgroups left in ${h}`);
  }
  // no conmon (nor anything else) still runs with this home on its command line
  const procs: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(join("/proc", pid, "cmdline"), "utf8").catch(() => "");
    if (cmdline.includes(home)) procs.push(cmdline.replace(/\0/g, " "));
  }
  assert.deepEqual(procs, []);
  assert.deepEqual((await fx.node.env.snapshotter.walk()).filter((s) => s.kind === "active"), []);
});
