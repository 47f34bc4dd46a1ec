/**
 * `podyard up -d` and `podyard down` as a user runs them: the background node with its pid
 * and log files, the kubeconfig that kubectl uses, a clear refusal for a taken port or a
 * second up on one home, down that leaves no container running, and the API's state (the
 * pods) carried over to the next up, which runs them again.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:https";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEED_PODS } from "../../src/cli/tutorial/seed-pods.js";
import type { UpInfo } from "../../src/cli/up/state.js";
import { killLeftoverChildren, runTool } from "../helpers/run-tool.js";
import { buildTestImage, pushLayout } from "../helpers/images.js";
import { KUBECTL, needKubectl, ok, runPodyard, waitFor } from "./helpers/node.js";

after(killLeftoverChildren);
const FILE = "up-daemon.test.ts";

/** Running, not a zombie: a detached node whose parent is gone may wait for a reaper that never comes. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

test("up -d, kubectl, down, and up again on the same home", async (t) => {
  if (!needKubectl(t, FILE)) return;
  const home = await mkdtemp(join(tmpdir(), "podyard-daemon-"));
  const cache = await mkdtemp(join(tmpdir(), "podyard-kubecache-"));
  const fakeHome = await mkdtemp(join(tmpdir(), "podyard-userhome-"));
  let pid: number | undefined;
  t.after(async () => {
    if (pid !== undefined && alive(pid)) await runPodyard(["down", "--home", home], { timeoutMs: 120_000 });
    await rm(home, { recursive: true, force: true });
    await rm(cache, { recursive: true, force: true });
    await rm(fakeHome, { recursive: true, force: true });
  });
  const upArgs = ["up", "-d", "--home", home, "--api-addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0", "--kubelet-port", "0", "--node-name", "daemon-node"];
  const env = { ...process.env, HOME: fakeHome };
  const first = await runPodyard([...upArgs, "--write-kubeconfig"], { env, timeoutMs: 120_000 });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /podyard up: node daemon-node is Ready/);
  assert.match(first.stdout, new RegExp(`^export KUBECONFIG=${join(home, "kubeconfig")}$`, "m"));
  const info = JSON.parse(await readFile(join(home, "up.json"), "utf8")) as UpInfo;
  pid = Number((await readFile(join(home, "podyard.pid"), "utf8")).trim());
  assert.equal(pid, info.pid);
  assert.ok(alive(pid), "the node runs on after up -d returned");
  assert.ok(existsSync(join(home, "podyard.log")));
  assert.match(await readFile(join(fakeHome, ".kube", "config"), "utf8"), /current-context: podyard/);

  const kenv = { ...process.env, KUBECONFIG: info.kubeconfig, KUBECACHEDIR: cache };
  const k = (args: string[]) => runTool(KUBECTL, args, { env: kenv, timeoutMs: 120_000 });
  assert.match(ok(await k(["get", "nodes"]), "get nodes"), /daemon-node\s+Ready/);
  const ca = await readFile(join(home, "pki", "ca.crt"));
  const ask = (headers: Record<string, string>): Promise<number> => new Promise((resolve, reject) => {
    const url = new URL("/api/v1/namespaces/default/pods", info.apiServer);
    request({ host: url.hostname, port: url.port, path: url.pathname, ca, headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on("error", reject).end();
  });
  assert.equal(await ask({}), 401, "no token, no certificate: 401");
  assert.equal(await ask({ Authorization: "Bearer wrong" }), 401);
  assert.equal(await ask({ Authorization: `Bearer ${(await readFile(join(home, "token"), "utf8")).trim()}` }), 200);

  const again = await runPodyard(upArgs, { timeoutMs: 60_000 });
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, new RegExp(`podyard up is already running for ${home} \\(pid ${pid}\\)`));
  const other = await mkdtemp(join(tmpdir(), "podyard-daemon2-"));
  const taken = await runPodyard(["up", "--home", other, "--api-addr", new URL(info.apiServer).host, "--registry-addr", "127.0.0.1:0", "--kubelet-port", "0"], { timeoutMs: 60_000 });
  await rm(other, { recursive: true, force: true });
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /the API server: address 127\.0\.0\.1:\d+ is already in use .*--api-addr/);

  const image = await buildTestImage();
  t.after(() => image.cleanup());
  await pushLayout(`http://${info.registry}`, "library/alpine", "latest", image);
  const pods = await mkdtemp(join(tmpdir(), "podyard-pods-"));
  t.after(() => rm(pods, { recursive: true, force: true }));
  const { writeFile } = await import("node:fs/promises");
  await writeFile(join(pods, "pod.yaml"), SEED_PODS["shared-volume-pod.yaml"]);
  ok(await k(["apply", "-f", join(pods, "pod.yaml")]), "apply");
  ok(await k(["wait", "--for=condition=Ready", "pod/shared-volume-pod", "--timeout=120s"]), "wait");

  const down = await runPodyard(["down", "--home", home], { timeoutMs: 120_000 });
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stdout, /podyard down: stopped the node/);
  assert.equal(alive(pid), false);
  assert.equal(existsSync(join(home, "podyard.pid")), false);
  const sandboxes = await readdir(join(home, "runtime", "sandboxes")).catch(() => []);
  assert.deepEqual(sandboxes, [], "no sandbox is left");
  const mounts = await readFile("/proc/self/mountinfo", "utf8");
  assert.ok(!mounts.includes(home), "nothing under the home is still mounted");
  assert.match((await runPodyard(["down", "--home", home])).stdout, /no podyard up runs for/);

  // the API's state survives: the pod is there and runs again
  const second = await runPodyard(upArgs, { timeoutMs: 120_000 });
  assert.equal(second.code, 0, second.stderr);
  pid = Number((await readFile(join(home, "podyard.pid"), "utf8")).trim());
  const info2 = JSON.parse(await readFile(join(home, "up.json"), "utf8")) as UpInfo;
  const kenv2 = { ...process.env, KUBECONFIG: info2.kubeconfig, KUBECACHEDIR: await mkdtemp(join(tmpdir(), "podyard-kubecache-")) };
  const k2 = (args: string[]) => runTool(KUBECTL, args, { env: kenv2, timeoutMs: 120_000 });
  await waitFor("the pod Running after the restart", async () => {
    const r = await k2(["get", "pod", "shared-volume-pod", "-o", "jsonpath={.status.phase}/{.status.containerStatuses[*].ready}"]);
    return r.stdout === "Running/true true" ? r.stdout : undefined;
  }, 120_000, 250);
  assert.equal(ok(await k2(["exec", "shared-volume-pod", "-c", "container-b", "--", "cat", "/mnt/vol/message"]), "exec"), "Hello from A\n");
  await rm(kenv2.KUBECACHEDIR ?? "", { recursive: true, force: true });
});
