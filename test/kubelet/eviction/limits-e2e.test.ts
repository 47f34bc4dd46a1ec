/**
 * Pod limits with real containers, through the real API server, kubelet and runtime (crun, or
 * runc with PODYARD_TEST_RUNTIME=runc): a container writing past its emptyDir's sizeLimit gets
 * the pod Evicted at the eviction manager's next look; with --pod-max-pids, a pod's shell that
 * forks past the limit cannot fork while another pod forks freely. Needs root.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Event, Node, Pod } from "../../../src/api/index.js";
import { openRuntimeFixture, RUNTIME, type RuntimeFixture } from "../../runtime/runtime-fixture.js";
import { startRealKubeletStack, until } from "../../helpers/real-kubelet-stack.js";

const PODS = "/api/v1/namespaces/default/pods";

let fx: RuntimeFixture | undefined;
let skip = "";
before(async () => {
  if (process.getuid?.() !== 0) {
    skip = "needs root (containers)";
    return;
  }
  fx = await openRuntimeFixture();
});
after(async () => {
  await fx?.close();
});

const pod = (f: RuntimeFixture, nodeName: string, name: string, command: string, extra: Partial<Pod["spec"]> = {}): Pod => ({
  apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" },
  spec: { nodeName, containers: [{ name: "main", image: f.image, command: ["sh", "-c", command], volumeMounts: [{ name: "scratch", mountPath: "/scratch" }] }], volumes: [{ name: "scratch", emptyDir: { sizeLimit: "1Mi" } }], ...extra },
});

test(`a container writing 3 MiB into an emptyDir of sizeLimit 1Mi gets its pod Evicted; a pod under the limit keeps running (${RUNTIME})`, async (t) => {
  if (!fx) return t.skip(skip);
  const { client, nodeName } = await startRealKubeletStack(t, fx);
  await client.create(PODS, pod(fx, nodeName, "writer", "dd if=/dev/zero of=/scratch/fill bs=1024 count=3072; echo written; sleep 3600", { terminationGracePeriodSeconds: 30 }));
  await client.create(PODS, pod(fx, nodeName, "modest", "dd if=/dev/zero of=/scratch/fill bs=1024 count=256; sleep 3600"));
  const evicted = await until("writer Failed", async () => {
    const p = await client.get<Pod>(`${PODS}/writer`);
    return p.status?.phase === "Failed" ? p : undefined;
  });
  assert.equal(evicted.status?.reason, "Evicted");
  assert.equal(evicted.status?.message, 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  const cs = evicted.status?.containerStatuses?.[0];
  assert.ok(cs?.state?.terminated, `container terminated: ${JSON.stringify(cs?.state)}`);
  assert.equal(cs?.restartCount, 0, "not restarted");
  const evs = await until("the Evicted event", async () => {
    const list = await client.list<Event>("/api/v1/namespaces/default/events");
    const e = list.items.filter((x) => x.reason === "Evicted");
    return e.length > 0 ? e : undefined;
  });
  assert.equal(evs.length, 1);
  assert.equal(evs[0]?.type, "Warning");
  assert.equal(evs[0]?.involvedObject.name, "writer");
  assert.equal(evs[0]?.message, 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi". ');
  // the point of evicting: the volume's disk is given back once the pod has stopped
  const volumes = join(fx.node.home, "kubelet", "pods", evicted.metadata.uid ?? "", "volumes");
  await until("the evicted pod's volumes removed", async () => (existsSync(volumes) ? undefined : true));
  const modest = await client.get<Pod>(`${PODS}/modest`);
  assert.equal(modest.status?.phase, "Running");
  assert.equal(modest.status?.containerStatuses?.[0]?.restartCount, 0);
});

test(`--pod-max-pids 16: a pod's shell forking 30 processes fails with can't fork, another pod's 10 forks all run; the node's pods capacity is unchanged (${RUNTIME})`, async (t) => {
  if (!fx) return t.skip(skip);
  const { client, rt, nodeName } = await startRealKubeletStack(t, fx, { podPidsLimit: 16 });
  await client.create(PODS, pod(fx, nodeName, "forker", "for i in $(seq 30); do sleep 3600 & done; echo done forking; wait", { restartPolicy: "Never" }));
  await client.create(PODS, pod(fx, nodeName, "small", "for i in $(seq 10); do sleep 3600 & done; echo all 10 forked; wait", { restartPolicy: "Never" }));
  const logOf = async (name: string): Promise<string> => {
    const box = (await rt.listPodSandbox()).find((b) => b.metadata.name === name);
    const c = box ? (await rt.listContainers({ podSandboxId: box.id }))[0] : undefined;
    if (!c) return "";
    return readFile((await rt.containerStatus(c.id)).status.logPath, "utf8").catch(() => "");
  };
  // busybox sh gives up when a fork fails: the container exits 2, the pod (Never) is Failed
  const forker = await until("forker Failed", async () => {
    const p = await client.get<Pod>(`${PODS}/forker`);
    return p.status?.phase === "Failed" ? p : undefined;
  });
  assert.equal(forker.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 2);
  const forkerLog = await logOf("forker");
  assert.match(forkerLog, /can't fork/);
  assert.doesNotMatch(forkerLog, /done forking/);
  const smallLog = await until("small's log", async () => {
    const l = await logOf("small");
    return /all 10 forked/.test(l) ? l : undefined;
  });
  assert.doesNotMatch(smallLog, /can't fork/);
  assert.equal((await client.get<Pod>(`${PODS}/small`)).status?.phase, "Running");
  const node = await client.get<Node>(`/api/v1/nodes/${nodeName}`);
  assert.equal(node.status?.capacity?.pods, "110");
  assert.equal(node.status?.allocatable?.pods, "110");
});
