/**
 * One real container behind the kubelet's server behind the test API server: a pod sandbox and a
 * container `main` on the real runtime (the runtime fixture's busybox image), a kubelet server
 * for it on a loopback port, and a test API server whose proxy reaches that kubelet. kubectl then
 * runs against `api.env`. Everything is removed after the test.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { Pod } from "../../src/api/index.js";
import { createKubeletServer, type KubeletProvider } from "../../src/kubelet/server/index.js";
import type { ContainerConfig, OciRuntimeService } from "../../src/runtime/index.js";
import { containerConfig, podConfig, type RuntimeFixture } from "../runtime/runtime-fixture.js";
import { makeTestPki } from "./pki.js";
import { kubeletConnection, kubeletNode, startTestApi, type TestApi } from "./test-api.js";

export interface KubeletStack {
  api: TestApi;
  rt: OciRuntimeService;
  podName: string;
  containerId: string;
}

/** Starts the stack with `main` configured by `container` (its command, stdin…), or skips the test when openssl is missing. */
export async function startKubeletStack(t: TestContext, fixture: RuntimeFixture, container: Partial<ContainerConfig>): Promise<KubeletStack | undefined> {
  const pki = await makeTestPki();
  if (typeof pki === "string") {
    t.skip(pki);
    return undefined;
  }
  t.after(() => pki.cleanup());
  const rt = await fixture.newRuntime();
  const logDir = await mkdtemp(join(tmpdir(), "podyard-stack-logs-"));
  t.after(() => rm(logDir, { recursive: true, force: true }));
  const sandboxConfig = podConfig(undefined, logDir);
  const sandboxId = await rt.runPodSandbox(sandboxConfig);
  t.after(() => rt.removePodSandbox(sandboxId));
  const containerId = await rt.createContainer(sandboxId, containerConfig(fixture.image, "main", container), sandboxConfig);
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
  const api = await startTestApi(t, { pods: [pod], node: kubeletNode((server.address() as AddressInfo).port), kubelet: kubeletConnection(pki) });
  return { api, rt, podName: name, containerId };
}
