import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFile, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test, type TestContext } from "node:test";
import WebSocket from "ws";
import { Exec, KubeConfig, type V1Status } from "@kubernetes/client-node";
import type { Pod } from "../../../src/api/index.js";
import { startKubelet, WEB_POD } from "../../kubelet/server/fixture.js";
import { KUBECTL, kubectl as runKubectl, kubectlInTerminal, kubectlMissing } from "../../helpers/kubectl.js";
import { kubeletConnection, kubeletNode, startTestApi, type TestApi } from "../../helpers/test-api.js";

async function setUp(t: TestContext): Promise<{ api: TestApi; kubelet: NonNullable<Awaited<ReturnType<typeof startKubelet>>> } | undefined> {
  const kubelet = await startKubelet(t);
  if (!kubelet) return undefined;
  const pod: Pod = { ...WEB_POD, status: { phase: "Running" } };
  const api = await startTestApi(t, { pods: [pod, { ...pod, metadata: { ...pod.metadata, name: "pending" }, spec: { ...pod.spec, nodeName: "" } }], node: kubeletNode(kubelet.port), kubelet: kubeletConnection(kubelet.pki) });
  return { api, kubelet };
}

function kubectl(api: TestApi, args: string[], stdin?: string): ReturnType<typeof runKubectl> {
  return runKubectl(api.env, args, stdin);
}

test("kubectl exec through the proxy: stdout passes, `exit 3` exits 3", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  const r = await kubectl(s.api, ["exec", "web", "-c", "main", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3"]);
  assert.equal(r.stdout, "hi\n");
  assert.match(r.stderr, /oops/);
  assert.match(r.stderr, /command terminated with exit code 3/);
  assert.equal(r.code, 3);
  const ok = await kubectl(s.api, ["exec", "web", "-c", "main", "--", "true"]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("kubectl exec -i passes stdin and its end (v5 CLOSE)", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  const r = await kubectl(s.api, ["exec", "-i", "web", "-c", "main", "--", "sh", "-c", "cat; echo done"], "hello\n");
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "hello\ndone\n");
});

test("kubectl exec into a container not in the spec prints kube-apiserver's BadRequest", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  const r = await kubectl(s.api, ["exec", "web", "-c", "ghost", "--", "true"]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Error from server \(BadRequest\): container ghost is not valid for pod web/);
});

test("kubectl logs through the proxy: tail, timestamps, and a waiting container's error", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  await writeFile(s.kubelet.runtime.containers.get("c-main")?.logPath ?? "", "2026-12-03T10:00:00Z stdout F a\n2026-12-03T10:00:01Z stderr F b\n");
  const all = await kubectl(s.api, ["logs", "web", "-c", "main"]);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout, "a\nb\n");
  const tail = await kubectl(s.api, ["logs", "web", "-c", "main", "--tail=1", "--timestamps"]);
  assert.equal(tail.stdout, "2026-12-03T10:00:01.000000000Z b\n");
  s.kubelet.refusals.set("default/web/side", { code: 400, reason: "BadRequest", message: `container "side" in pod "web" is waiting to start: ContainerCreating` });
  const waiting = await kubectl(s.api, ["logs", "web", "-c", "side"]);
  assert.notEqual(waiting.code, 0);
  assert.match(waiting.stderr, /Error from server \(BadRequest\): container "side" in pod "web" is waiting to start: ContainerCreating/);
  const previous = await kubectl(s.api, ["logs", "web", "-c", "main", "--previous"]);
  assert.match(previous.stderr, /Error from server \(BadRequest\): previous terminated container "main" in pod "web" not found/);
  const pending = await kubectl(s.api, ["logs", "pending", "-c", "main"]);
  assert.deepEqual([pending.code, pending.stdout], [0, ""]);
});

test("with several containers and none named, the API server names the choices; an unscheduled pod has no host", async (t) => {
  const s = await setUp(t);
  if (!s) return;
  const reply = (path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${s.api.url.replace("http", "ws")}${path}`, ["v5.channel.k8s.io"]);
      ws.on("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.on("open", () => reject(new Error("upgraded")));
      ws.on("error", reject);
    });
  const none = await reply("/api/v1/namespaces/default/pods/web/exec?command=true&stdout=true");
  assert.equal(none.status, 400);
  assert.equal(JSON.parse(none.body).message, "a container name must be specified for pod web, choose one of: [main side]");
  const pending = await reply("/api/v1/namespaces/default/pods/pending/exec?command=true&stdout=true&container=main");
  assert.equal(JSON.parse(pending.body).message, "pod pending does not have a host assigned");
});

test("@kubernetes/client-node's Exec works through the proxy, with the exit status in its callback", async (t) => {
  const s = await setUp(t);
  if (!s) return;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: s.api.url, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc).exec("default", "web", "main", ["sh", "-c", "echo from-client-node; exit 4"], stdout, null, null, false, resolve).catch(reject);
  });
  assert.equal(status.status, "Failure");
  assert.equal(status.reason, "NonZeroExitCode");
  assert.deepEqual(status.details?.causes, [{ reason: "ExitCode", message: "4" }]);
  assert.equal(out, "from-client-node\n");
});


test("kubectl exec -it from a real terminal: the shell gets a pty, typed lines run, `exit 3` exits 3", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  // Type once the shell's prompt is there, then again after the answer.
  const { code, screen } = await kubectlInTerminal(t, s.api.env, ["exec", "-it", "web", "-c", "main", "--", "sh"], { cols: 90, rows: 20 }, [
    { ready: (sc) => /[$#] $/.test(sc), type: "echo $((6*7)); stty size\r" },
    { ready: (sc) => /20 90/.test(sc), type: "exit 3\r" },
  ]);
  assert.match(screen, /42/);
  assert.match(screen, /20 90/);
  assert.equal(code, 3);
});

test("kubectl cp copies into and out of the container (tar over exec)", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  const local = join(s.kubelet.dir, "local.txt");
  await writeFile(local, "copied through exec\n");
  const into = await kubectl(s.api, ["cp", local, `web:${s.kubelet.dir}/inside.txt`, "-c", "main"]);
  assert.equal(into.code, 0, into.stderr);
  assert.equal(await readFile(join(s.kubelet.dir, "inside.txt"), "utf8"), "copied through exec\n");
  const back = join(s.kubelet.dir, "back.txt");
  const out = await kubectl(s.api, ["cp", `web:${s.kubelet.dir}/inside.txt`, back, "-c", "main"]);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(await readFile(back, "utf8"), "copied through exec\n");
});

test("kubectl logs -f passes lines through as they come and returns when the container stops", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  const c = s.kubelet.runtime.containers.get("c-main");
  assert.ok(c);
  await writeFile(c.logPath, "2026-12-03T10:00:00Z stdout F first\n");
  const child = spawn(KUBECTL, ["logs", "-f", "web", "-c", "main"], { env: s.api.env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const exited = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    if (out === "first\n") void appendFile(c.logPath, "2026-12-03T10:00:01Z stdout F second\n");
    if (out === "first\nsecond\n") c.state = "CONTAINER_EXITED";
  });
  assert.equal(await exited, 0);
  assert.equal(out, "first\nsecond\n");
});

test("kubectl attach -i reaches the container's main process through the proxy", async (t) => {
  if (kubectlMissing(t)) return;
  const s = await setUp(t);
  if (!s) return;
  const r = await kubectl(s.api, ["attach", "-i", "web", "-c", "main"], "attached line\n");
  assert.match(r.stdout, /attached line/);
  assert.equal(r.code, 0, r.stderr);
});

/** The versioned kubectls beside the dispatcher, oldest and newest (1.27 speaks only SPDY for exec). */
async function versionedKubectls(): Promise<string[]> {
  const dir = "/usr/lib/google-cloud-sdk/bin";
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^kubectl\.1\.\d+$/.test(n));
  names.sort((a, b) => Number(a.split(".")[2]) - Number(b.split(".")[2]));
  const picked = [...new Set([names[0], names[names.length - 1]])].filter((n): n is string => n !== undefined);
  return picked.map((n) => join(dir, n));
}

test("the oldest and newest versioned kubectls exec through the proxy (SPDY/3.1 streams for the old one): stdout, stdin, exit code", async (t) => {
  const binaries = await versionedKubectls();
  if (binaries.length === 0) {
    process.stderr.write("skipping: no versioned kubectl binaries in /usr/lib/google-cloud-sdk/bin\n");
    return t.skip("no versioned kubectl binaries");
  }
  const s = await setUp(t);
  if (!s) return;
  for (const bin of binaries) {
    const run = (args: string[], stdin = ""): ReturnType<typeof runKubectl> => runKubectl(s.api.env, args, stdin, bin);
    const r = await run(["exec", "web", "-c", "main", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3"]);
    assert.equal(r.stdout, "hi\n", `${bin}: ${r.stderr}`);
    assert.match(r.stderr, /oops/);
    assert.equal(r.code, 3, `${bin}: ${r.stderr}`);
    const i = await run(["exec", "-i", "web", "-c", "main", "--", "sh", "-c", "cat; echo done"], "piped\n");
    assert.equal(i.stdout, "piped\ndone\n", `${bin}: ${i.stderr}`);
    assert.equal(i.code, 0);
    const bad = await run(["exec", "web", "-c", "main", "--", "no-such-tool"]);
    assert.match(bad.stderr, /executable file not found/, bin);
    assert.equal(bad.code, 1);
  }
});

test("kubectl 1.27 exec -it through a pty: SPDY resize stream sets the terminal size, exit 3 exits 3", async (t) => {
  const bin = (await versionedKubectls())[0];
  if (!bin) return t.skip("no versioned kubectl binaries");
  const s = await setUp(t);
  if (!s) return;
  const { code, screen } = await kubectlInTerminal(t, s.api.env, ["exec", "-it", "web", "-c", "main", "--", "sh"], { cols: 77, rows: 21 }, [
    { ready: (sc) => /[$#] $/.test(sc), type: "stty size\r" },
    { ready: (sc) => /21 77/.test(sc), type: "exit 3\r" },
  ], bin);
  assert.match(screen, /21 77/);
  assert.equal(code, 3);
});
