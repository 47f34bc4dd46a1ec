/**
 * Past one machine: a second node (`podyard kubelet`, its own home) joins the first node's
 * API server with a kubeconfig; a pod with nodeName node2 runs there, one with a nodeSelector
 * is scheduled there, and `kubectl logs` and `kubectl exec` reach it through the API server.
 */
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueKubeletCert } from "../../src/cli/up/pki.js";
import { killLeftoverChildren } from "../helpers/run-tool.js";
import { cleanupImages, needKubectl, ok, podyardArgs, pushAlpine, REPO, startUp, waitFor, waitPodReady } from "./helpers/node.js";

after(killLeftoverChildren);
after(cleanupImages);
const FILE = "multi-node.test.ts";

test("a second node joins with podyard kubelet and runs pods scheduled to it", async (t) => {
  if (!needKubectl(t, FILE)) return;
  const node1 = await startUp(t);
  await pushAlpine(t, node1);
  const home2 = await mkdtemp(join(tmpdir(), "podyard-node2-"));
  // node1's API server verifies kubelet serving certificates: node2's is signed by node1's CA
  const tls = await issueKubeletCert(join(node1.home, "pki"), join(home2, "tls"), "node2");
  const [cmd, argv] = podyardArgs([
    "kubelet", "--kubeconfig", node1.info.kubeconfig, "--node-name", "node2", "--home", home2, "--kubelet-port", "0",
    "--tls-cert-file", tls.certFile, "--tls-private-key-file", tls.keyFile,
  ]);
  const child = spawn(cmd, argv, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  t.after(async () => {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    await exited;
    clearTimeout(timer);
    await rm(home2, { recursive: true, force: true });
  });
  const k = node1.kubectl;
  await waitFor("node2 Ready", async () => {
    if (child.exitCode !== null) throw new Error(`podyard kubelet exited ${child.exitCode}:\n${out}`);
    const r = await k(["get", "node", "node2", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
    return r.stdout === "True" ? true : undefined;
  }, 90_000, 200);
  assert.match(ok(await k(["get", "nodes"]), "get nodes"), /node1\s+Ready[\s\S]*node2\s+Ready|node2\s+Ready[\s\S]*node1\s+Ready/);

  // node2 has no mirror of its own: it pulls from node1's registry by its address
  const image = `${node1.info.registry}/library/alpine:latest`;
  const dir = await mkdtemp(join(tmpdir(), "podyard-pods-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, "pinned.yaml"), [
    "apiVersion: v1", "kind: Pod", "metadata:", "  name: pinned", "spec:", "  nodeName: node2", "  containers:", "  - name: app", `    image: ${image}`,
    "    command: ['sh', '-c', 'echo hello from node2; sleep 3600']", "",
  ].join("\n"));
  await writeFile(join(dir, "selected.yaml"), [
    "apiVersion: v1", "kind: Pod", "metadata:", "  name: selected", "spec:", "  nodeSelector:", "    kubernetes.io/hostname: node2", "  containers:", "  - name: app", `    image: ${image}`,
    "    command: ['sh', '-c', 'sleep 3600']", "",
  ].join("\n"));
  ok(await k(["apply", "-f", join(dir, "pinned.yaml"), "-f", join(dir, "selected.yaml")]), "apply");
  await waitPodReady(node1, "pinned");
  await waitPodReady(node1, "selected");
  assert.match(ok(await k(["get", "pods", "-o", "wide"]), "get -o wide"), /pinned\s+1\/1\s+Running\s+0\s+\S+\s+\S+\s+node2/);
  assert.equal(ok(await k(["get", "pod", "selected", "-o", "jsonpath={.spec.nodeName}"]), "nodeName"), "node2");
  assert.match(ok(await k(["describe", "pod", "selected"]), "describe"), /Successfully assigned default\/selected to node2/);
  const logs = await waitFor("the log line", async () => {
    const r = await k(["logs", "pinned"]);
    return r.stdout.includes("hello from node2") ? r.stdout : undefined;
  });
  assert.equal(logs, "hello from node2\n");
  assert.equal(ok(await k(["exec", "pinned", "--", "sh", "-c", "hostname"]), "exec"), "pinned\n");
  const three = await k(["exec", "pinned", "--", "sh", "-c", "exit 3"]);
  assert.equal(three.code, 3);
  ok(await k(["delete", "pod", "pinned", "selected", "--grace-period=1"], { timeoutMs: 120_000 }), "delete");
});
