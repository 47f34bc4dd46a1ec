/**
 * The real kubectl against `podyard up`: the tutorial's pods applied unchanged, then get,
 * describe, exec (plain, -i, -it through a pty, exit codes), logs (-f, --previous),
 * port-forward, cp, label, annotate, get -w, explain and delete, as a user types them.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEED_PODS } from "../../src/cli/tutorial/seed-pods.js";
import { killLeftoverChildren, runTool } from "../helpers/run-tool.js";
import { cleanupImages, KUBECTL, needKubectl, ok, pushAlpine, startUp, waitFor, waitPodReady, type UpNode } from "./helpers/node.js";

after(killLeftoverChildren);
after(cleanupImages);

const FILE = "kubectl.test.ts";

async function writePods(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-pods-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(SEED_PODS)) await writeFile(join(dir, name), text);
  await writeFile(join(dir, "logger.yaml"), [
    "apiVersion: v1", "kind: Pod", "metadata:", "  name: logger", "spec:", "  containers:", "  - name: app", "    image: alpine",
    "    command: ['sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done']", "",
  ].join("\n"));
  await writeFile(join(dir, "crasher.yaml"), [
    "apiVersion: v1", "kind: Pod", "metadata:", "  name: crasher", "spec:", "  containers:", "  - name: app", "    image: alpine",
    "    command: ['sh', '-c', 'echo run; exit 1']", "",
  ].join("\n"));
  return dir;
}

/** Spawns a long-running kubectl (get -w, logs -f, port-forward) and resolves once its output matches. */
function streamUntil(node: UpNode, args: string[], pattern: RegExp, timeoutMs = 60_000): Promise<{ text: string; stop(): void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, { env: node.env, stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kubectl ${args.join(" ")}: no ${String(pattern)} within ${timeoutMs} ms; output:\n${text}`));
    }, timeoutMs);
    const on = (d: Buffer): void => {
      text += d.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve({ text, stop: () => child.kill("SIGTERM") });
      }
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.on("exit", (code) => {
      clearTimeout(timer);
      if (!pattern.test(text)) reject(new Error(`kubectl ${args.join(" ")} exited ${String(code)} before ${String(pattern)}:\n${text}`));
    });
  });
}

test("the real kubectl drives podyard up", async (t) => {
  if (!needKubectl(t, FILE)) return;
  const node = await startUp(t);
  await pushAlpine(t, node);
  const pods = await writePods(t);
  const k = node.kubectl;

  await t.test("apply the tutorial's pods unchanged, and they run", async () => {
    assert.equal(ok(await k(["apply", "-f", join(pods, "shared-volume-pod.yaml")]), "apply").trim(), "pod/shared-volume-pod created");
    assert.equal(ok(await k(["apply", "-f", join(pods, "network-test-pod.yaml")]), "apply").trim(), "pod/network-test-pod created");
    await waitPodReady(node, "shared-volume-pod");
    await waitPodReady(node, "network-test-pod");
    assert.equal(ok(await k(["apply", "-f", join(pods, "shared-volume-pod.yaml")]), "apply again").trim(), "pod/shared-volume-pod unchanged");
  });

  await t.test("get: the table, -o wide, -o yaml, -o json", async () => {
    const table = ok(await k(["get", "pods"]), "get pods").trim().split("\n");
    assert.match(table[0] ?? "", /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.match(table.find((l) => l.startsWith("shared-volume-pod")) ?? "", /^shared-volume-pod\s+2\/2\s+Running\s+0\s+\S+$/);
    const wide = ok(await k(["get", "pods", "-o", "wide"]), "get -o wide");
    assert.match(wide, /IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES/);
    assert.match(wide, /network-test-pod\s+2\/2\s+Running\s+0\s+\S+\s+\d+\.\d+\.\d+\.\d+\s+node1\s+<none>\s+<none>/);
    const yaml = ok(await k(["get", "pod", "shared-volume-pod", "-o", "yaml"]), "get -o yaml");
    assert.match(yaml, /^kind: Pod$/m);
    assert.match(yaml, /^ {2}nodeName: node1$/m);
    const pod = JSON.parse(ok(await k(["get", "pod", "shared-volume-pod", "-o", "json"]), "get -o json")) as {
      status: { phase: string; containerStatuses: { name: string; image: string; imageID: string; ready: boolean; containerID: string }[] };
    };
    assert.equal(pod.status.phase, "Running");
    assert.deepEqual(pod.status.containerStatuses.map((c) => [c.name, c.ready]), [["container-a", true], ["container-b", true]]);
    for (const c of pod.status.containerStatuses) {
      assert.match(c.imageID, /^docker\.io\/library\/alpine@sha256:[0-9a-f]{64}$/);
      // a running container names its image by repo tag, as containerd reports it
      assert.equal(c.image, "docker.io/library/alpine:latest");
    }
    assert.match(ok(await k(["get", "nodes"]), "get nodes"), /node1\s+Ready\s+/);
  });

  await t.test("exec: the tutorial's two checks", async () => {
    assert.equal(ok(await k(["exec", "shared-volume-pod", "-c", "container-b", "--", "cat", "/mnt/vol/message"]), "exec cat"), "Hello from A\n");
    assert.equal(ok(await k(["exec", "network-test-pod", "-c", "container-b", "--", "nc", "localhost", "8080"]), "exec nc"), "Hello from A\n");
  });

  await t.test("exec: the exit code, stdin with -i, a shell through a pty with -it", async () => {
    const three = await k(["exec", "shared-volume-pod", "-c", "container-b", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(three.code, 3);
    assert.equal(three.stdout, "out\n");
    assert.match(three.stderr, /err\n/);
    assert.match(three.stderr, /command terminated with exit code 3/);
    const cat = await k(["exec", "-i", "shared-volume-pod", "-c", "container-b", "--", "sh", "-c", "tr a-z A-Z"], { input: "hello from stdin\n" });
    assert.equal(ok(cat, "exec -i"), "HELLO FROM STDIN\n");
    const cmd = `${KUBECTL} exec -it shared-volume-pod -c container-b -- sh`;
    const tty = await runTool("script", ["-qec", cmd, "/dev/null"], {
      env: node.env, input: "echo tty-$((40+2)); tty; exit 7\n", timeoutMs: 60_000,
    });
    assert.equal(tty.code, 7, tty.stdout + tty.stderr);
    assert.match(tty.stdout, /tty-42/);
    assert.match(tty.stdout, /\/dev\/pts\/\d+/);
  });

  await t.test("describe shows the events of scheduling, pulling and starting", async () => {
    const text = ok(await k(["describe", "pod", "shared-volume-pod"]), "describe");
    assert.match(text, /^Name:\s+shared-volume-pod$/m);
    assert.match(text, /^Node:\s+node1\/127\.0\.0\.1$/m);
    assert.match(text, /^Status:\s+Running$/m);
    assert.match(text, /Normal\s+Scheduled\s+.*default-scheduler\s+Successfully assigned default\/shared-volume-pod to node1/);
    assert.match(text, /Normal\s+Pulling\s+.*kubelet\s+Pulling image "alpine"/);
    assert.match(text, /Normal\s+Pulled\s+.*kubelet\s+(Successfully pulled image "alpine" in .* Image size: \d+ bytes\.|Container image "alpine" already present on machine)/);
    assert.match(text, /Normal\s+Created\s+.*kubelet\s+Created container:? container-a/);
    assert.match(text, /Normal\s+Started\s+.*kubelet\s+Started container container-b/);
  });

  await t.test("logs, logs -f and logs --previous", async () => {
    ok(await k(["apply", "-f", join(pods, "logger.yaml"), "-f", join(pods, "crasher.yaml")]), "apply logger, crasher");
    await waitPodReady(node, "logger");
    const logs = await waitFor("two lines of logs", async () => {
      const r = await k(["logs", "logger"]);
      return r.code === 0 && /line 1\n/.test(r.stdout) ? r.stdout : undefined;
    });
    assert.match(logs, /^line 0\nline 1\n/);
    const follow = await streamUntil(node, ["logs", "-f", "logger", "--tail=1"], /line (\d+)\n(.*\n)?line \d+\n/);
    follow.stop();
    const tail = ok(await k(["logs", "logger", "--tail=2", "--timestamps"]), "logs --tail --timestamps").trim().split("\n");
    assert.equal(tail.length, 2);
    assert.match(tail[0] ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z line \d+$/);
    const restarted = await waitFor("crasher to restart", async () => {
      const r = await k(["get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"]);
      return Number(r.stdout) >= 1 ? r.stdout : undefined;
    }, 90_000, 200);
    assert.ok(Number(restarted) >= 1);
    const previous = ok(await k(["logs", "crasher", "--previous"]), "logs --previous");
    assert.equal(previous, "run\n");
    // a restarted crasher is briefly Running and ready (1/1) before it exits again, as on a real node
    const notReady = /crasher\s+0\/1\s+(CrashLoopBackOff|Error|Completed|Running)\s+\d/;
    const status = await waitFor("crasher not ready", async () => {
      const out = ok(await k(["get", "pod", "crasher"]), "get crasher");
      return notReady.test(out) ? out : undefined;
    }, 90_000, 200);
    assert.match(status, notReady);
  });

  await t.test("port-forward reaches a port inside the pod's network namespace", async () => {
    const pf = await streamUntil(node, ["port-forward", "pod/network-test-pod", ":8080"], /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/);
    try {
      const port = Number(/Forwarding from 127\.0\.0\.1:(\d+)/.exec(pf.text)?.[1]);
      const got = await new Promise<string>((resolve, reject) => {
        const s = connect(port, "127.0.0.1");
        let data = "";
        s.on("data", (d: Buffer) => (data += d.toString()));
        s.on("end", () => resolve(data));
        s.on("error", reject);
        setTimeout(() => {
          s.destroy();
          resolve(data);
        }, 10_000);
      });
      assert.equal(got, "Hello from A\n");
    } finally {
      pf.stop();
    }
  });

  await t.test("cp copies a file into a container and back", async () => {
    const dir = await mkdtemp(join(tmpdir(), "podyard-cp-"));
    try {
      await writeFile(join(dir, "in.txt"), "copied in\n");
      ok(await k(["cp", join(dir, "in.txt"), "shared-volume-pod:/tmp/in.txt", "-c", "container-b"]), "cp in");
      assert.equal(ok(await k(["exec", "shared-volume-pod", "-c", "container-b", "--", "cat", "/tmp/in.txt"]), "cat"), "copied in\n");
      ok(await k(["cp", "shared-volume-pod:/mnt/vol/message", join(dir, "out.txt"), "-c", "container-a"]), "cp out");
      assert.equal(await readFile(join(dir, "out.txt"), "utf8"), "Hello from A\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  await t.test("label and annotate, then select by label", async () => {
    assert.equal(ok(await k(["label", "pod", "shared-volume-pod", "tier=web"]), "label").trim(), "pod/shared-volume-pod labeled");
    assert.equal(ok(await k(["annotate", "pod", "shared-volume-pod", "note=hello"]), "annotate").trim(), "pod/shared-volume-pod annotated");
    const names = ok(await k(["get", "pods", "-l", "tier=web", "-o", "name"]), "get -l");
    assert.equal(names, "pod/shared-volume-pod\n");
    assert.equal(ok(await k(["get", "pod", "shared-volume-pod", "-o", "jsonpath={.metadata.annotations.note}"]), "jsonpath"), "hello");
  });

  await t.test("get -w shows a new pod come up", async () => {
    const watch = streamUntil(node, ["get", "pods", "-w"], /watched\s+1\/1\s+Running/, 120_000);
    await new Promise((r) => setTimeout(r, 1000));
    ok(await k(["run", "watched", "--image=alpine", "--restart=Never", "--", "sleep", "3600"]), "run");
    const seen = await watch;
    seen.stop();
    assert.match(seen.text, /watched\s+0\/1\s+(Pending|ContainerCreating)/);
  });

  await t.test("explain pod.spec", async () => {
    const text = ok(await k(["explain", "pod.spec"]), "explain");
    assert.match(text, /^KIND:\s+Pod$/m);
    assert.match(text, /^FIELDS:$/m);
    assert.match(text, /^ {2}containers\s+<\[\]Container> -required-$/m);
  });

  for (const v of ["1.33", "1.27"]) {
    await t.test(`kubectl ${v} (the ${v === "1.27" ? "oldest" : "newest"} binary) execs too`, async (st) => {
      const bin = `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`;
      if (!existsSync(bin)) {
        process.stderr.write(`${FILE}: kubectl ${v}: skipping: ${bin} is not installed\n`);
        st.skip(`${bin} is not installed`);
        return;
      }
      const r = await k(["exec", "shared-volume-pod", "-c", "container-b", "--", "cat", "/mnt/vol/message"], { kubectl: bin });
      assert.equal(ok(r, `kubectl ${v} exec`), "Hello from A\n", `kubectl ${v}`);
    });
  }

  await t.test("delete waits for the pod to go", async () => {
    const r = ok(await k(["delete", "pod", "logger", "crasher", "watched"], { timeoutMs: 120_000 }), "delete");
    assert.match(r, /pod "logger" deleted/);
    const gone = await k(["get", "pod", "logger"]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "logger" not found/);
  });
});
