/** What a process inside a container sees of its config: user, env, cwd, capabilities, read-only rootfs and mounts, TTY, logs, attach, port-forward. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { cleanupSandbox, containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

const capEff = (status: string): bigint => BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"}`);

test("user, env, working directory, capabilities and no_new_privs reach the process", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const def = await rt.createContainer(sb, containerConfig(fx.image, "def", { command: ["sleep", "3600"], envs: [{ key: "GREETING", value: "hi" }], workingDir: "/tmp" }), pod);
  const nobody = await rt.createContainer(sb, containerConfig(fx.image, "nobody", {
    command: ["sleep", "3600"],
    linux: { securityContext: { runAsUser: { value: 65534 }, runAsGroup: { value: 65534 }, capabilities: { dropCapabilities: ["ALL"], addCapabilities: ["NET_BIND_SERVICE"] } } },
  }), pod);
  const priv = await rt.createContainer(sb, containerConfig(fx.image, "priv", { command: ["sleep", "3600"], linux: { securityContext: { privileged: true } } }), pod);
  for (const id of [def, nobody, priv]) await rt.startContainer(id);

  const env = (await rt.execSync(def, ["sh", "-c", "echo $GREETING $HOSTNAME; pwd; id -u"], 10)).stdout.toString();
  assert.equal(env, `hi ${pod.metadata.name}\n/tmp\n0\n`);
  const st = (await rt.execSync(def, ["cat", "/proc/1/status"], 10)).stdout.toString();
  assert.equal(capEff(st), 0xa80425fbn, "Docker's 14 default capabilities");
  assert.match(st, /NoNewPrivs:\s*1/);

  assert.equal((await rt.execSync(nobody, ["id", "-u"], 10)).stdout.toString(), "65534\n");
  const nst = (await rt.execSync(nobody, ["cat", "/proc/1/status"], 10)).stdout.toString();
  assert.equal(capEff(nst), 0n, "a non-root process keeps no effective capabilities");
  assert.match(nst, /CapBnd:\s*0000000000000400/, "only NET_BIND_SERVICE in the bounding set");

  const pst = (await rt.execSync(priv, ["cat", "/proc/1/status"], 10)).stdout.toString();
  assert.ok(capEff(pst) > 0xa80425fbn);
  assert.match(pst, /NoNewPrivs:\s*0/);
  assert.match((await rt.execSync(def, ["cat", "/proc/kcore"], 10)).stdout.toString(), /^$/, "masked");
  assert.notEqual((await rt.execSync(def, ["sh", "-c", "echo 1 > /proc/sys/kernel/domainname"], 10)).exitCode, 0, "/proc/sys is read-only");
});

test("readonly rootfs, read-only and tmpfs mounts; /etc/hostname and /etc/resolv.conf", async (t) => {
  const rt = await fx.newRuntime();
  const vol = await mkdtemp(join(tmpdir(), "podyard-vol-"));
  t.after(() => rm(vol, { recursive: true, force: true }));
  await writeFile(join(vol, "data"), "from the host\n");
  const pod = { ...podConfig(), dnsConfig: { servers: ["10.96.0.10"], searches: ["default.svc.cluster.local"], options: ["ndots:5"] } };
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "ro", {
    command: ["sleep", "3600"],
    linux: { securityContext: { readonlyRootfs: true } },
    mounts: [{ containerPath: "/data", hostPath: vol, readonly: true }, { containerPath: "/scratch", hostPath: "", tmpfs: {} }],
  }), pod);
  await rt.startContainer(id);
  assert.notEqual((await rt.execSync(id, ["touch", "/newfile"], 10)).exitCode, 0);
  assert.notEqual((await rt.execSync(id, ["touch", "/data/x"], 10)).exitCode, 0);
  assert.equal((await rt.execSync(id, ["cat", "/data/data"], 10)).stdout.toString(), "from the host\n");
  assert.equal((await rt.execSync(id, ["sh", "-c", "echo ok > /scratch/f && cat /scratch/f"], 10)).stdout.toString(), "ok\n");
  assert.equal((await rt.execSync(id, ["cat", "/etc/hostname"], 10)).stdout.toString(), `${pod.metadata.name}\n`);
  assert.equal((await rt.execSync(id, ["cat", "/etc/resolv.conf"], 10)).stdout.toString(), "search default.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n");
  await assert.rejects(rt.createContainer(sb, containerConfig(fx.image, "bad", { command: ["true"], mounts: [{ containerPath: "/x", hostPath: join(vol, "absent") }] }), pod),
    /mount source .*absent for \/x does not exist/);
});

test("logs in the CRI format; reopenContainerLog after a rotation; attach streams new output", async (t) => {
  const rt = await fx.newRuntime();
  const logs = await mkdtemp(join(tmpdir(), "podyard-logs-"));
  t.after(() => rm(logs, { recursive: true, force: true }));
  const pod = podConfig(undefined, logs);
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "talker", { command: ["sh", "-c", "i=0; while true; do echo line $i; echo err $i >&2; i=$((i+1)); sleep 0.1; done"] }), pod);
  await rt.startContainer(id);
  const file = join(logs, "talker", "0.log");
  let text = "";
  while (!/stderr F err 1\n/.test(text)) text = await readFile(file, "utf8").catch(() => "");
  assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(?:Z|[+-]\d\d:\d\d) stdout F line 0\n/m);

  await rename(file, `${file}.20260101-000000`);
  await rt.reopenContainerLog(id);
  let fresh = "";
  while (!/stdout F line/.test(fresh)) fresh = await readFile(file, "utf8").catch(() => "");

  const out = new PassThrough();
  let seen = "";
  out.on("data", (d: Buffer) => { seen += d.toString(); });
  const stdin = new PassThrough();
  const attached = rt.attach({ containerId: id, stdin: false, tty: false, stdout: true, stderr: false }, { tty: false, stdin, stdout: out });
  while (!/line \d+\nline \d+\n/.test(seen)) await new Promise((r) => setTimeout(r, 50));
  stdin.end();
  await attached;
  assert.doesNotMatch(seen, /err/, "stderr was not asked for");
  const lost = new PassThrough();
  lost.resume();
  const second = rt.attach({ containerId: id, stdin: false, tty: false, stdout: true, stderr: true }, { tty: false, stdout: lost, stderr: lost });
  lost.destroy();
  await second;
});

test("portForward reaches 127.0.0.1:PORT inside the pod; a closed port is refused", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "srv", { command: ["nc", "-lk", "-p", "8080", "-e", "echo", "Hello from A"] }), pod);
  await rt.startContainer(id);
  let got = "";
  for (let i = 0; i < 50 && got === ""; i++) {
    const stream = await rt.portForward(sb, 8080).catch(() => undefined);
    if (!stream) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    got = await new Promise<string>((resolve) => {
      let s = "";
      stream.on("data", (d: Buffer) => { s += d.toString(); });
      stream.on("end", () => resolve(s));
      stream.on("error", () => resolve(s));
      stream.end();
    });
  }
  assert.equal(got, "Hello from A\n");
  await assert.rejects(rt.portForward(sb, 9), /ECONNREFUSED/);
});

test("a TTY container's output goes to its log", async (t) => {
  const rt = await fx.newRuntime();
  const logs = await mkdtemp(join(tmpdir(), "podyard-logs-"));
  t.after(() => rm(logs, { recursive: true, force: true }));
  const pod = podConfig(undefined, logs);
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "tty", { command: ["sh", "-c", "tty; echo done; sleep 3600"], tty: true }), pod);
  await rt.startContainer(id);
  let text = "";
  while (!/done/.test(text)) text = await readFile(join(logs, "tty", "0.log"), "utf8").catch(() => "");
  assert.match(text, /stdout [FP] \/dev\/pts\/\d+/);
});
