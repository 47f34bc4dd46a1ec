/** The kubelet's podPidsLimit as the sandbox's linux.resources.pidsLimit: pids.max on the pod's cgroup, shared by its containers. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ownCgroupPath } from "../../src/runtime/cgroups.js";
import { cleanupSandbox, containerConfig, openRuntimeFixture, podConfig, RUNTIME, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

const unified = await readFile("/sys/fs/cgroup/cgroup.controllers", "utf8").then(() => true, () => false);
/** Fifteen background processes: more than the limited pod has room for. */
const FORK_MANY = ["sh", "-c", "for i in $(seq 15); do sleep 30 >/dev/null 2>&1 & done; echo forked"];

test(`the pod's pids limit is pids.max of its cgroup, counts all its containers together, and leaves other pods alone (${RUNTIME})`, async (t) => {
  const rt = await fx.newRuntime();
  const limited = { ...podConfig(), linux: { resources: { pidsLimit: 16 } } };
  const sb = await rt.runPodSandbox(limited);
  cleanupSandbox(t, rt, sb);
  const own = await ownCgroupPath();
  const podDir = join(unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids", own === "/" ? "" : own, "podyard", sb);
  assert.equal((await readFile(join(podDir, "pids.max"), "utf8")).trim(), "16");

  // four processes in one container, one in the other: five of sixteen (pids.max counts threads: runc's Go init needs room for its own while it starts a container or exec)
  const a = await rt.createContainer(sb, containerConfig(fx.image, "a", { command: ["sh", "-c", "sleep 3600 & sleep 3600 & sleep 3600 & wait"] }), limited);
  const b = await rt.createContainer(sb, containerConfig(fx.image, "b", { command: ["sleep", "3600"] }), limited);
  await rt.startContainer(a);
  await rt.startContainer(b);
  for (let i = 0; i < 100 && Number((await readFile(join(podDir, "pids.current"), "utf8")).trim()) < 5; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await readFile(join(podDir, "pids.current"), "utf8")).trim(), "5");
  const denied = await rt.execSync(b, FORK_MANY, 10);
  assert.match(denied.stderr.toString(), /can't fork/);

  const free = podConfig();
  const other = await rt.runPodSandbox(free);
  cleanupSandbox(t, rt, other);
  const c = await rt.createContainer(other, containerConfig(fx.image, "c", { command: ["sleep", "3600"] }), free);
  await rt.startContainer(c);
  const allowed = await rt.execSync(c, FORK_MANY, 10);
  assert.equal(allowed.stdout.toString(), "forked\n");
  assert.equal(allowed.stderr.toString(), "");
  const freeDir = join(unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids", own === "/" ? "" : own, "podyard", other);
  assert.equal((await readFile(join(freeDir, "pids.max"), "utf8")).trim(), "max");
});

test("removing the sandbox removes the pod's cgroup with its pids limit", async (t) => {
  const rt = await fx.newRuntime();
  const pod = { ...podConfig(), linux: { resources: { pidsLimit: 20 } } };
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const own = await ownCgroupPath();
  const podDir = join(unified ? "/sys/fs/cgroup" : "/sys/fs/cgroup/pids", own === "/" ? "" : own, "podyard", sb);
  const ctr = await rt.createContainer(sb, containerConfig(fx.image, "x", { command: ["true"] }), pod);
  await rt.startContainer(ctr);
  await rt.removePodSandbox(sb);
  await assert.rejects(readFile(join(podDir, "pids.max")), { code: "ENOENT" });
});
