/** A pod sandbox with two containers of the busybox image: shared localhost, a shared volume, separate writable layers, diff. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatChanges, podContainerDiff } from "../../src/runtime/index.js";
import { cleanupSandbox, containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

test("two containers in one sandbox share localhost and an emptyDir-like volume; hostname is the pod name; the pod IP is on lo", async (t) => {
  const rt = await fx.newRuntime();
  const vol = await mkdtemp(join(tmpdir(), "podyard-vol-"));
  t.after(() => rm(vol, { recursive: true, force: true }));
  const logs = await mkdtemp(join(tmpdir(), "podyard-logs-"));
  t.after(() => rm(logs, { recursive: true, force: true }));
  const pod = podConfig(undefined, logs);
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const status = await rt.podSandboxStatus(sb);
  assert.equal(status.status.state, "SANDBOX_READY");
  assert.match(status.status.network?.ip ?? "", /^10\.88\.\d+\.\d+$/);
  const mounts = [{ containerPath: "/mnt/vol", hostPath: vol }];
  const a = await rt.createContainer(sb, containerConfig(fx.image, "a", {
    command: ["sh", "-c", "echo Hello from A > /mnt/vol/message; echo wrote message; exec nc -lk -p 8080 -e echo \"Hello from A\""], mounts,
  }), pod);
  const b = await rt.createContainer(sb, containerConfig(fx.image, "b", { command: ["sleep", "3600"], mounts }), pod);
  assert.match(a, /^[0-9a-f]{64}$/);
  await rt.startContainer(a);
  await rt.startContainer(b);
  assert.deepEqual((await rt.listContainers({ podSandboxId: sb, state: { state: "CONTAINER_RUNNING" } })).map((c) => c.metadata.name).sort(), ["a", "b"]);

  const cat = await rt.execSync(b, ["cat", "/mnt/vol/message"], 10);
  assert.equal(cat.stdout.toString(), "Hello from A\n");
  let nc = "";
  for (let i = 0; i < 50 && nc === ""; i++) nc = (await rt.execSync(b, ["nc", "localhost", "8080"], 10)).stdout.toString();
  assert.equal(nc, "Hello from A\n");
  assert.equal((await rt.execSync(b, ["nc", "localhost", "8080"], 10)).stdout.toString(), "Hello from A\n", "the server keeps listening");
  assert.equal((await rt.execSync(b, ["hostname"], 10)).stdout.toString(), `${pod.metadata.name}\n`);
  assert.match((await rt.execSync(b, ["ip", "addr", "show", "lo"], 10)).stdout.toString(), new RegExp(`inet ${status.status.network?.ip ?? "x"}/32`));
  assert.equal((await rt.execSync(b, ["sh", "-c", "exit 7"], 10)).exitCode, 7);

  const log = await readFile(join(logs, "a", "0.log"), "utf8");
  assert.match(log, /^\S+ stdout F wrote message\n/);
  const cs = await rt.containerStatus(a);
  assert.equal(cs.status.logPath, join(logs, "a", "0.log"));
  assert.equal(cs.status.state, "CONTAINER_RUNNING");
  assert.ok(cs.status.startedAt > 0n);
});

test("a file written by one container is not seen by another of the same image; the image's snapshots are unchanged; diff lists A/C/D", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const before = JSON.stringify(await fx.node.env.snapshotter.walk());
  const one = await rt.createContainer(sb, containerConfig(fx.image, "one", { command: ["sleep", "3600"] }), pod);
  const two = await rt.createContainer(sb, containerConfig(fx.image, "two", { command: ["sleep", "3600"] }), pod);
  await rt.startContainer(one);
  await rt.startContainer(two);
  await rt.execSync(one, ["sh", "-c", "echo mine > /tmp/only-one; echo changed >> /etc/passwd; rm /etc/group; mkdir -p /new/dir; touch /new/dir/f"], 10);
  assert.equal((await rt.execSync(one, ["cat", "/tmp/only-one"], 10)).stdout.toString(), "mine\n");
  const seen = await rt.execSync(two, ["cat", "/tmp/only-one"], 10);
  assert.notEqual(seen.exitCode, 0);
  assert.equal((await rt.execSync(two, ["test", "-f", "/etc/group"], 10)).exitCode, 0);
  const diff = await rt.containerDiff(one);
  const has = (kind: string, path: string): boolean => diff.some((c) => c.kind === kind && c.path === path);
  assert.ok(has("A", "/tmp/only-one"), JSON.stringify(diff));
  assert.ok(has("C", "/tmp"));
  assert.ok(has("C", "/etc/passwd"));
  assert.ok(has("D", "/etc/group"));
  assert.ok(has("A", "/new") && has("A", "/new/dir") && has("A", "/new/dir/f"));
  assert.deepEqual(await rt.containerDiff(two), []);
  const byName = await podContainerDiff({ home: fx.node.home, pod: pod.metadata.name, container: "one" });
  assert.equal(byName.containerId, one);
  assert.deepEqual(byName.changes, diff);
  assert.match(formatChanges(byName.changes), /^C \/etc\nD \/etc\/group\nC \/etc\/passwd\n/m);
  await assert.rejects(podContainerDiff({ home: fx.node.home, pod: pod.metadata.name }), /a container name must be specified for pod \S+, choose one of: \[one two\] with -c/);
  await assert.rejects(podContainerDiff({ home: fx.node.home, pod: "nope" }), /pod "nope" not found in namespace "default"/);
  await rt.removePodSandbox(sb);
  const snaps = await fx.node.env.snapshotter.walk();
  assert.equal(JSON.stringify(snaps), before, "only the image's snapshots remain, as they were");
  void writeFile;
});

async function processesNaming(ids: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (ids.some((id) => cmd.includes(id))) found.push(`${pid}: ${cmd.replace(/\0/g, " ")}`);
  }
  return found;
}

test("after removePodSandbox no mount, cgroup directory, process, namespace file or state directory is left", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const run = await rt.createContainer(sb, containerConfig(fx.image, "run", { command: ["sleep", "3600"], linux: { resources: { memoryLimitInBytes: 64 * 1024 * 1024, cpuQuota: 50000, cpuPeriod: 100000, pidsLimit: 100 } } }), pod);
  const exited = await rt.createContainer(sb, containerConfig(fx.image, "exited", { command: ["true"] }), pod);
  const created = await rt.createContainer(sb, containerConfig(fx.image, "created", { command: ["true"] }), pod);
  await rt.startContainer(run);
  await rt.startContainer(exited);
  const own = (await readFile("/proc/self/cgroup", "utf8")).split("\n").find((l) => l.split(":")[1] === "memory")?.split(":")[2] ?? "/";
  const memDir = join("/sys/fs/cgroup/memory", own, "podyard", sb, run);
  assert.equal((await readFile(join(memDir, "memory.limit_in_bytes"), "utf8")).trim(), String(64 * 1024 * 1024));
  assert.equal((await readFile(join("/sys/fs/cgroup/cpu", own, "podyard", sb, run, "cpu.cfs_quota_us"), "utf8")).trim(), "50000");
  assert.equal((await readFile(join("/sys/fs/cgroup/pids", own, "podyard", sb, run, "pids.max"), "utf8")).trim(), "100");
  const devices = (await rt.execSync(run, ["cat", "/sys/fs/cgroup/devices/devices.list"], 10)).stdout.toString();
  assert.doesNotMatch(devices, /^a \*:\* rwm$/m, "the container has its own device rules");
  const stats = await rt.containerStats(run);
  assert.ok((stats.memory?.usageBytes?.value ?? 0) > 0);

  await rt.stopPodSandbox(sb);
  assert.equal((await rt.podSandboxStatus(sb)).status.state, "SANDBOX_NOTREADY");
  assert.equal((await rt.containerStatus(run)).status.state, "CONTAINER_EXITED");
  await rt.removePodSandbox(sb);
  await rt.removePodSandbox(sb);

  const ids = [sb, run, exited, created];
  assert.deepEqual((await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => ids.some((id) => l.includes(id)) || l.includes(`${fx.node.home}/runtime`)), []);
  const cgroupsLeft: string[] = [];
  for (const h of await readdir("/sys/fs/cgroup")) {
    const p = join("/sys/fs/cgroup", h, own, "podyard", sb);
    if (await stat(p).then(() => true, () => false)) cgroupsLeft.push(p);
  }
  assert.deepEqual(cgroupsLeft, []);
  assert.deepEqual(await processesNaming(ids), []);
  assert.deepEqual(await readdir(join(fx.node.home, "runtime", "sandboxes")), []);
  assert.deepEqual(await readdir(join(fx.node.home, "runtime", "containers")), []);
  assert.deepEqual(await readdir(join(fx.node.home, "runtime", "exits")), []);
  assert.deepEqual(await readdir(join(fx.node.home, "runtime", "sockets")), []);
  assert.deepEqual(await rt.listPodSandbox(), []);
  assert.deepEqual(await rt.listContainers(), []);
  await assert.rejects(rt.podSandboxStatus(sb), /not found/);
});

test("the containers of a pod share one 64 MiB /dev/shm, writable under a read-only rootfs; another pod has its own; stop unmounts it", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const other = podConfig();
  const sb2 = await rt.runPodSandbox(other);
  cleanupSandbox(t, rt, sb2);
  const a = await rt.createContainer(sb, containerConfig(fx.image, "a", { command: ["sleep", "3600"] }), pod);
  const b = await rt.createContainer(sb, containerConfig(fx.image, "b", { command: ["sleep", "3600"], linux: { securityContext: { readonlyRootfs: true } } }), pod);
  const c = await rt.createContainer(sb2, containerConfig(fx.image, "c", { command: ["sleep", "3600"] }), other);
  for (const id of [a, b, c]) await rt.startContainer(id);

  assert.equal((await rt.execSync(a, ["sh", "-c", "echo from-a > /dev/shm/segment"], 10)).exitCode, 0);
  assert.equal((await rt.execSync(b, ["cat", "/dev/shm/segment"], 10)).stdout.toString(), "from-a\n");
  assert.equal((await rt.execSync(b, ["sh", "-c", "echo from-b >> /dev/shm/segment"], 10)).exitCode, 0);
  assert.equal((await rt.execSync(a, ["cat", "/dev/shm/segment"], 10)).stdout.toString(), "from-a\nfrom-b\n");
  const otherPod = await rt.execSync(c, ["ls", "-A", "/dev/shm"], 10);
  assert.equal(otherPod.stdout.toString(), "");
  // 64 MiB, sticky and world-writable like the host's /dev/shm
  const df = (await rt.execSync(b, ["df", "-k", "/dev/shm"], 10)).stdout.toString();
  assert.match(df, /\n\S+\s+65536\s/);
  assert.match((await rt.execSync(a, ["stat", "-c", "%a", "/dev/shm"], 10)).stdout.toString(), /^1777\n$/);

  const shm = join(fx.node.home, "runtime", "sandboxes", sb, "shm");
  const mounted = async (): Promise<boolean> => (await readFile("/proc/self/mountinfo", "utf8")).split("\n").some((l) => l.split(" ")[4] === shm);
  assert.equal(await mounted(), true);
  await rt.stopPodSandbox(sb);
  assert.equal(await mounted(), false);
});
