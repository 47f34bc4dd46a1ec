/** Exit codes and reasons, stop with grace on the injected clock, exec with a TTY, and a restart of the runtime. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { readdir, readFile } from "node:fs/promises";
import { FakeClock } from "../../src/clock/index.js";
import type { OciRuntimeService } from "../../src/runtime/index.js";
import { cleanupSandbox, containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

async function waitExited(rt: OciRuntimeService, id: string): Promise<Awaited<ReturnType<OciRuntimeService["containerStatus"]>>["status"]> {
  for (;;) {
    const { status } = await rt.containerStatus(id);
    if (status.state === "CONTAINER_EXITED") return status;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("exit 0 is Completed, exit 3 is Error, a memory hog over 16Mi is OOMKilled", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const ok = await rt.createContainer(sb, containerConfig(fx.image, "ok", { command: ["true"] }), pod);
  const three = await rt.createContainer(sb, containerConfig(fx.image, "three", { command: ["sh", "-c", "exit 3"] }), pod);
  const hog = await rt.createContainer(sb, containerConfig(fx.image, "hog", {
    command: ["dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"],
    linux: { resources: { memoryLimitInBytes: 16 * 1024 * 1024 } },
  }), pod);
  for (const id of [ok, three, hog]) await rt.startContainer(id);
  const s0 = await waitExited(rt, ok);
  assert.deepEqual([s0.exitCode, s0.reason], [0, "Completed"]);
  assert.ok(s0.finishedAt >= s0.startedAt && s0.startedAt > 0n);
  const s3 = await waitExited(rt, three);
  assert.deepEqual([s3.exitCode, s3.reason], [3, "Error"]);
  const sh = await waitExited(rt, hog);
  assert.deepEqual([sh.exitCode, sh.reason], [137, "OOMKilled"]);
});

test("a Guaranteed pod's oom_score_adj of -997 starts, raised to what this host allows (containerd's restrict_oom_score_adj)", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "guaranteed", {
    command: ["sh", "-c", "cat /proc/self/oom_score_adj; sleep 30"],
    linux: { resources: { memoryLimitInBytes: 32 * 1024 * 1024, oomScoreAdj: -997 } },
  }), pod);
  await rt.startContainer(id);
  const own = Number((await readFile("/proc/self/oom_score_adj", "utf8")).trim());
  const canLower = /CapEff:\s*([0-9a-f]+)/.exec(await readFile("/proc/self/status", "utf8"))?.[1];
  const hasSysResource = canLower !== undefined && (BigInt(`0x${canLower}`) & (1n << 24n)) !== 0n;
  const r = await rt.execSync(id, ["cat", "/proc/1/oom_score_adj"], 10);
  assert.equal(r.stdout.toString().trim(), String(hasSysResource ? -997 : Math.max(-997, own)));
  assert.equal((await rt.containerStatus(id)).status.state, "CONTAINER_RUNNING");
});

test("a command missing from the image: startContainer rejects with the runtime's message; the status is StartError, exit 128", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "missing", { command: ["no-such-binary"] }), pod);
  await assert.rejects(rt.startContainer(id), (err: Error) => /no-such-binary/.test(err.message) && /not found/.test(err.message));
  const { status } = await rt.containerStatus(id);
  assert.equal(status.state, "CONTAINER_EXITED");
  assert.equal(status.exitCode, 128);
  assert.equal(status.reason, "StartError");
  assert.match(status.message, /executable file `no-such-binary` not found in \$PATH|exec: "no-such-binary": executable file not found in \$PATH/);
});

/** Processes (conmon, the runtime, the container's init) whose command line names the container. */
async function processesNaming(id: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(id)) out.push(`${pid}: ${cmd.replaceAll("\0", " ")}`);
  }
  return out;
}

test("a created container's runtime process waits for the start: removed or stopped before it, nothing is left running; a stopped one still starts", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  // removed right after CreateContainer, while the runtime's create is still under way
  const never = await rt.createContainer(sb, containerConfig(fx.image, "never", { command: ["sleep", "3600"] }), pod);
  await rt.removeContainer(never);
  assert.deepEqual(await processesNaming(never), []);
  await assert.rejects(rt.containerStatus(never), /not found/);

  const later = await rt.createContainer(sb, containerConfig(fx.image, "later", { command: ["sh", "-c", "echo started; exec sleep 3600"] }), pod);
  await rt.stopContainer(later, 0);
  assert.deepEqual(await processesNaming(later), []);
  assert.equal((await rt.containerStatus(later)).status.state, "CONTAINER_CREATED");
  await rt.startContainer(later);
  const { status } = await rt.containerStatus(later);
  assert.equal(status.state, "CONTAINER_RUNNING");
  assert.equal((await rt.execSync(later, ["cat", "/proc/1/cmdline"], 10)).stdout.toString().replaceAll("\0", " ").trim(), "sleep 3600");
});

test("an empty command against an image without ENTRYPOINT/CMD is refused; bad limits are refused with a clear message", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  await assert.rejects(rt.createContainer(sb, containerConfig(fx.image, "tiny", { command: ["true"], linux: { resources: { memoryLimitInBytes: 1024 } } }), pod),
    /memory limit 1024 bytes is below the minimum/);
  await assert.rejects(rt.createContainer(sb, containerConfig("no-such/image:v9", "x"), pod), /No such image/);
  assert.deepEqual(await rt.listContainers({ podSandboxId: sb }), [], "nothing half-made is listed");
});

test("stop sends SIGTERM, waits the grace period on the clock, then SIGKILL (137); a TERM handler exits 143", async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 2));
  const rt = await fx.newRuntime(clock);
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const stubborn = await rt.createContainer(sb, containerConfig(fx.image, "stubborn", { command: ["sleep", "3600"] }), pod);
  const polite = await rt.createContainer(sb, containerConfig(fx.image, "polite", { command: ["sh", "-c", "trap 'exit 143' TERM; while true; do sleep 0.1; done"] }), pod);
  await rt.startContainer(stubborn);
  await rt.startContainer(polite);
  const stopping = rt.stopContainer(stubborn, 30);
  while (clock.sleepers === 0) await new Promise((r) => setTimeout(r, 10));
  // SIGTERM was sent; sleep as PID 1 ignores it
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await rt.containerStatus(stubborn)).status.state, "CONTAINER_RUNNING", "still running within the grace period");
  clock.step(29_999);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await rt.containerStatus(stubborn)).status.state, "CONTAINER_RUNNING", "still running 1 ms before the grace period ends");
  clock.step(1);
  await stopping;
  const s = (await rt.containerStatus(stubborn)).status;
  assert.deepEqual([s.state, s.exitCode, s.reason], ["CONTAINER_EXITED", 137, "Error"]);

  await rt.stopContainer(polite, 30);
  const p = (await rt.containerStatus(polite)).status;
  assert.deepEqual([p.exitCode, p.reason], [143, "Error"]);
  await rt.stopContainer(polite, 30);
});

test("exec with a TTY returns the exit code (3), sees a terminal and the size asked for; without one, stdin reaches the process; a missing command is the runtime's error", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "tty", { command: ["sleep", "3600"] }), pod);
  await rt.startContainer(id);
  const out = new PassThrough();
  let text = "";
  out.on("data", (d: Buffer) => { text += d.toString(); });
  async function* sizes(): AsyncGenerator<{ width: number; height: number }> {
    yield { width: 100, height: 30 };
  }
  const code = await rt.exec({ containerId: id, cmd: ["sh", "-c", "tty; stty size; exit 3"], tty: true, stdin: false, stdout: true, stderr: false }, { tty: true, stdout: out, resize: sizes() });
  assert.equal(code, 3);
  assert.match(text, /\/dev\/pts\/\d+/);
  assert.match(text, /30 100/);

  const stdout = new PassThrough();
  let plain = "";
  stdout.on("data", (d: Buffer) => { plain += d.toString(); });
  const stdin = new PassThrough();
  const running = rt.exec({ containerId: id, cmd: ["sh", "-c", "read line; echo got $line; exit 5"], tty: false, stdin: true, stdout: true, stderr: true }, { tty: false, stdin, stdout, stderr: stdout });
  stdin.end("hello\n");
  assert.equal(await running, 5);
  assert.equal(plain, "got hello\n");

  // a command the image lacks: the runtime's own error, not an exit code
  const notFound = /executable file `no-such-cmd` not found in \$PATH|exec: "no-such-cmd": executable file not found in \$PATH/;
  await assert.rejects(rt.execSync(id, ["no-such-cmd"], 10), notFound);
  const none = new PassThrough();
  await assert.rejects(rt.exec({ containerId: id, cmd: ["no-such-cmd"], tty: false, stdin: false, stdout: true, stderr: true }, { tty: false, stdout: none, stderr: none }), notFound);
  await assert.rejects(rt.exec({ containerId: id, cmd: ["no-such-cmd"], tty: true, stdin: false, stdout: true, stderr: false }, { tty: true, stdout: none }), notFound);
  assert.equal((await rt.execSync(id, ["sh", "-c", "no-such-cmd"], 10)).exitCode, 127, "a shell's own not-found is an exit code");
});

test("execSync kills a command that outlives its timeout", async (t) => {
  const clock = new FakeClock(Date.UTC(2026, 0, 2));
  const rt = await fx.newRuntime(clock);
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "slow", { command: ["sleep", "3600"] }), pod);
  await rt.startContainer(id);
  const run = rt.execSync(id, ["sleep", "1000"], 2);
  while (clock.sleepers === 0) await new Promise((r) => setTimeout(r, 10));
  clock.step(2000);
  await assert.rejects(run, /command "sleep 1000" timed out/);
  const ps = (await rt.execSync(id, ["ps"], 0)).stdout.toString();
  assert.doesNotMatch(ps, /sleep 1000/, "the timed-out process is gone");
});

test("a new runtime over the same home adopts a running container and keeps an exited one's status", async (t) => {
  const rt1 = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt1.runPodSandbox(pod);
  const runner = await rt1.createContainer(sb, containerConfig(fx.image, "runner", { command: ["sleep", "3600"] }), pod);
  const done = await rt1.createContainer(sb, containerConfig(fx.image, "done", { command: ["sh", "-c", "exit 4"] }), pod);
  await rt1.startContainer(runner);
  await rt1.startContainer(done);
  await waitExited(rt1, done);
  const pid1 = (await rt1.execSync(runner, ["sh", "-c", "echo $$; cat /proc/1/stat"], 10)).stdout.toString().split("\n")[1];
  rt1.close();

  const rt2 = await fx.newRuntime();
  cleanupSandbox(t, rt2, sb);
  assert.equal((await rt2.podSandboxStatus(sb)).status.state, "SANDBOX_READY");
  const list = await rt2.listContainers({ podSandboxId: sb });
  assert.deepEqual(list.map((c) => [c.metadata.name, c.state]).sort(), [["done", "CONTAINER_EXITED"], ["runner", "CONTAINER_RUNNING"]]);
  const d = (await rt2.containerStatus(done)).status;
  assert.deepEqual([d.exitCode, d.reason], [4, "Error"]);
  const pid2 = (await rt2.execSync(runner, ["cat", "/proc/1/stat"], 10)).stdout.toString().split("\n")[0];
  assert.equal(pid2, pid1, "the same process, not restarted");
  await rt2.stopContainer(runner, 0);
  assert.equal((await rt2.containerStatus(runner)).status.exitCode, 137);
});
