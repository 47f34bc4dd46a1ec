/**
 * The kubelet's side of the conversation (src/kubelet's KubeClient and Reflector) against this
 * server: node registration, the Lease, pod list+watch by node, status patches, events, and the
 * grace-0 delete that ends a graceful deletion.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject, Pod } from "../../src/api/index.js";
import { KubeClient, Reflector } from "../../src/kubelet/index.js";
import { call, pod, startServer } from "./server-helper.js";

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), "condition not reached");
}

test("a kubelet registers its node and Lease, follows its pods, reports status and events, and finishes deletions", async (t) => {
  const s = await startServer(t);
  const client = new KubeClient({ server: s.url });
  t.after(() => client.close());
  const node = await client.create("/api/v1/nodes", {
    apiVersion: "v1", kind: "Node", metadata: { name: "node1", labels: { "kubernetes.io/hostname": "node1" } },
    status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }], nodeInfo: { kubeletVersion: "v1.32.4" } },
  } as KubeObject);
  assert.equal((node as unknown as { status: { conditions: { type: string }[] } }).status.conditions[0]?.type, "Ready");
  const lease = await client.create("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", {
    apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "node1" }, spec: { holderIdentity: "node1", leaseDurationSeconds: 40, renewTime: "2026-12-03T10:00:00.000000Z" },
  } as KubeObject);
  const renewed = await client.update("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/node1", { ...lease, spec: { ...(lease as unknown as { spec: object }).spec, renewTime: "2026-12-03T10:00:10.000000Z" } } as KubeObject);
  assert.ok(Number(renewed.metadata.resourceVersion) > Number(lease.metadata.resourceVersion));

  const added: string[] = [], updated: string[] = [], deleted: string[] = [];
  const reflector = new Reflector<Pod>({
    client, path: "/api/v1/pods", query: { fieldSelector: "spec.nodeName=node1" },
    handler: {
      onAdd: (p) => added.push(p.metadata.name ?? ""),
      onUpdate: (p) => updated.push(`${p.metadata.name ?? ""}:${p.metadata.deletionTimestamp ? "terminating" : (p.status?.phase ?? "")}`),
      onDelete: (p) => deleted.push(p.metadata.name ?? ""),
    },
  });
  const ac = new AbortController();
  t.after(() => ac.abort());
  void reflector.run(ac.signal).catch(() => undefined);
  await reflector.waitForSync();
  await call(s.url, "POST", "/api/v1/namespaces/default/pods", pod("web", { nodeName: "node1" }));
  await call(s.url, "POST", "/api/v1/namespaces/default/pods", pod("other", { nodeName: "node2" }));
  await until(() => added.includes("web"));
  assert.deepEqual(added, ["web"]);

  const status = await client.patch<Pod>("/api/v1/namespaces/default/pods/web/status", {
    metadata: { uid: (reflector.get("default", "web") as Pod).metadata.uid },
    status: {
      "$setElementOrder/conditions": [{ type: "Initialized" }, { type: "Ready" }, { type: "PodScheduled" }],
      conditions: [{ type: "Initialized", status: "True" }, { type: "Ready", status: "True" }, { type: "PodScheduled", status: "True" }],
      phase: "Running", podIP: "10.88.0.5", podIPs: [{ ip: "10.88.0.5" }],
    },
  }, "strategic");
  assert.equal(status.status?.phase, "Running");
  assert.deepEqual(status.status?.conditions?.map((c) => c.type), ["Initialized", "Ready", "PodScheduled"]);
  await until(() => updated.includes("web:Running"));

  const ev = await client.create("/api/v1/namespaces/default/events", {
    apiVersion: "v1", kind: "Event", metadata: { name: "web.17f3a2b4c5d6e7f8", namespace: "default" },
    involvedObject: { kind: "Pod", namespace: "default", name: "web", uid: status.metadata.uid, apiVersion: "v1", fieldPath: "spec.containers{c}" },
    reason: "Started", message: "Started container c", type: "Normal", source: { component: "kubelet", host: "node1" }, count: 1,
  } as KubeObject);
  await client.patch(`/api/v1/namespaces/default/events/${ev.metadata.name ?? ""}`, { count: 2, lastTimestamp: "2026-12-03T10:00:05Z" }, "strategic");

  // kubectl delete: graceful; the kubelet sees the deletionTimestamp, stops the pod and deletes with grace 0.
  const d = await call(s.url, "DELETE", "/api/v1/namespaces/default/pods/web", { propagationPolicy: "Background" });
  assert.equal(d.status, 200);
  await until(() => updated.includes("web:terminating"));
  await client.delete("/api/v1/namespaces/default/pods/web", { gracePeriodSeconds: 0, preconditions: { uid: status.metadata.uid ?? "" } });
  await until(() => deleted.includes("web"));
  assert.equal(reflector.get("default", "web"), undefined);
});
