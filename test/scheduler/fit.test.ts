import { test } from "node:test";
import assert from "node:assert/strict";
import type { Node, Pod } from "../../src/api/index.js";
import { findNode } from "../../src/scheduler/index.js";

function node(name: string, opts: { ready?: "True" | "False"; labels?: Record<string, string>; pods?: string; unschedulable?: boolean; taints?: NonNullable<Node["spec"]>["taints"] } = {}): Node {
  return {
    apiVersion: "v1", kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...opts.labels } },
    spec: { ...(opts.unschedulable ? { unschedulable: true } : {}), ...(opts.taints ? { taints: opts.taints } : {}) },
    status: { allocatable: { pods: opts.pods ?? "110" }, conditions: [{ type: "Ready", status: opts.ready ?? "True" }] },
  };
}

function pod(name: string, spec: Partial<Pod["spec"]> = {}): Pod {
  return { metadata: { name, namespace: "default", uid: `uid-${name}` }, spec: { containers: [{ name: "c", image: "alpine" }], ...spec } };
}

test("a pod goes to the Ready node with the fewest pods", () => {
  const pods = [pod("a", { nodeName: "node1" }), pod("b", { nodeName: "node1" }), pod("c", { nodeName: "node2" })];
  assert.deepEqual(findNode(pod("web"), [node("node1"), node("node2")], pods), { node: "node2" });
});

test("nodeSelector picks the node with the matching labels", () => {
  const nodes = [node("node1"), node("node2", { labels: { disk: "ssd" } })];
  assert.deepEqual(findNode(pod("web", { nodeSelector: { disk: "ssd" } }), nodes, []), { node: "node2" });
  assert.deepEqual(findNode(pod("web", { nodeSelector: { "kubernetes.io/hostname": "node1" } }), nodes, []), { node: "node1" });
});

test("no node fits: kube-scheduler's message counts the reasons", () => {
  const nodes = [node("node1"), node("node2", { ready: "False" })];
  const r = findNode(pod("web", { nodeSelector: { disk: "ssd" } }), [node("node1")], []);
  assert.deepEqual(r, {
    message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
  });
  const full = findNode(pod("web"), [node("node1", { pods: "1" }), node("node2", { ready: "False" })], [pod("x", { nodeName: "node1" })]);
  assert.deepEqual(full, {
    message: "0/2 nodes are available: 1 Too many pods, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling.",
  });
  assert.equal(nodes.length, 2);
});

test("finished pods do not take room; unschedulable nodes and taints are honoured", () => {
  const done: Pod = { ...pod("x", { nodeName: "node1" }), status: { phase: "Succeeded" } };
  assert.deepEqual(findNode(pod("web"), [node("node1", { pods: "1" })], [done]), { node: "node1" });
  const cordoned = findNode(pod("web"), [node("node1", { unschedulable: true })], []);
  assert.ok("message" in cordoned && cordoned.message.startsWith("0/1 nodes are available: 1 node(s) were unschedulable."));
  const tainted = node("node1", { taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] });
  const r = findNode(pod("web"), [tainted], []);
  assert.ok("message" in r && r.message.includes("1 node(s) had untolerated taint {dedicated: gpu}"));
  assert.deepEqual(findNode(pod("web", { tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] }), [tainted], []), { node: "node1" });
});

test("no nodes at all", () => {
  assert.deepEqual(findNode(pod("web"), [], []), { message: "no nodes available to schedule pods" });
});
