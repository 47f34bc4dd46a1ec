/**
 * `kubectl attach -i` through the API server's proxy and the kubelet's server to a real container
 * made with stdin and stdinOnce: the lines typed reach it, its answers come back, and the end of
 * kubectl's stdin is the container's EOF; attach ends when the container exits.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test, type TestContext } from "node:test";
import type { Node, Pod } from "../../src/api/index.js";
import { createKubeletServer, type KubeletProvider } from "../../src/kubelet/server/index.js";
import type { OciRuntimeService } from "../../src/runtime/index.js";
import { startTestApi, type TestApi } from "../apiserver/proxy/test-api.js";
import { containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";
import { makeTestPki } from "../kubelet/server/pki.js";

const KUBECTL = "/usr/bin/kubectl";
let fx: RuntimeFixture | undefined;
let skip: string | undefined;

before(async () => {
  if (process.getuid?.() !== 0) skip = "needs root to run containers";
  else {
    try {
      await access(KUBECTL);
      fx = await openRuntimeFixture();
    } catch (err) {
      skip = `no container stack here: ${(err as Error).message}`;
    }
  }
});
after(async () => {
  await fx?.close();
});

interface Stack {
  api: TestApi;
  rt: OciRuntimeService;
  podName: string;
  containerId: string;
}

async function startStack(t: TestContext, fixture: RuntimeFixture): Promise<Stack | undefined> {
  const pki = await makeTestPki();
  if (typeof pki === "string") {
    t.skip(pki);
    return undefined;
  }
  t.after(() => pki.cleanup());
  const rt = await fixture.newRuntime();
  const logDir = await mkdtemp(join(tmpdir(), "podyard-attach-logs-"));
  t.after(() => rm(logDir, { recursive: true, force: true }));
  const sandboxConfig = podConfig(undefined, logDir);
  const sandboxId = await rt.runPodSandbox(sandboxConfig);
  t.after(() => rt.removePodSandbox(sandboxId));
  const containerId = await rt.createContainer(sandboxId, containerConfig(fixture.image, "main", {
    command: ["sh", "-c", "while read line; do echo \"got $line\"; done; echo bye; exit 4"], stdin: true, stdinOnce: true,
  }), sandboxConfig);
  await rt.startContainer(containerId);
  const name = sandboxConfig.metadata.name;
  const pod: Pod = {
    apiVersion: "v1", kind: "Pod",
    metadata: { name, namespace: "default", uid: sandboxConfig.metadata.uid },
    spec: { nodeName: "node1", containers: [{ name: "main", image: fixture.image }] },
    status: { phase: "Running" },
  };
  const provider: KubeletProvider = {
    pods: () => [pod],
    runtime: rt,
    statsSummary: async () => ({}),
    lookupContainer: async (_ns, p, c) => {
      if (p !== name || c !== "main") return { error: { code: 404, reason: "NotFound", message: `container ${c} not found` } };
      const { status } = await rt.containerStatus(containerId);
      return { containerId, logPath: status.logPath, running: status.state === "CONTAINER_RUNNING", sandboxId };
    },
    lookupSandbox: async () => ({ sandboxId }),
  };
  const server = createKubeletServer({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca }, provider });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const node: Node = { metadata: { name: "node1" }, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: (server.address() as AddressInfo).port } } } };
  const api = await startTestApi(t, { pods: [pod], node, kubelet: { clientCert: pki.clientCert, clientKey: pki.clientKey, ca: pki.ca } });
  return { api, rt, podName: name, containerId };
}

function kubectl(api: TestApi, args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, args, { env: api.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test("kubectl attach -i: typed lines reach the container and its answers come back; the end of stdin is its EOF", { timeout: 120_000 }, async (t) => {
  if (skip || !fx) {
    process.stderr.write(`skipping: ${skip}\n`);
    return t.skip(skip);
  }
  const s = await startStack(t, fx);
  if (!s) return;
  const r = await kubectl(s.api, ["attach", "-i", s.podName, "-c", "main"], "one\ntwo\n");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /got one\ngot two\nbye\n$/);
  // stdinOnce: the container saw EOF, answered bye and exited; attach ended with it
  const { status } = await s.rt.containerStatus(s.containerId);
  assert.equal(status.state, "CONTAINER_EXITED");
  assert.equal(status.exitCode, 4);
});
