import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerStatus, KubeObject, Pod } from "../../../src/api/index.js";
import { humanDuration, toTable } from "../../../src/apiserver/printers/index.js";

const NOW = Date.parse("2026-12-03T12:00:00Z");
const ago = (s: number): string => new Date(NOW - s * 1000).toISOString();

test("humanDuration matches duration.HumanDuration at every boundary", () => {
  const cases: [number, string][] = [
    [-2000, "<invalid>"], [-1999, "0s"], [-1000, "0s"], [0, "0s"], [999, "0s"], [1000, "1s"], [119_999, "119s"],
    [120_000, "2m"], [121_000, "2m1s"], [599_000, "9m59s"], [600_000, "10m"], [3 * 3600_000 - 1, "179m"],
    [3 * 3600_000, "3h"], [3 * 3600_000 + 60_000, "3h1m"], [8 * 3600_000 - 1, "7h59m"], [8 * 3600_000, "8h"],
    [48 * 3600_000 - 1, "47h"], [48 * 3600_000, "2d"], [49 * 3600_000, "2d1h"], [8 * 86400_000 - 1, "7d23h"],
    [8 * 86400_000, "8d"], [730 * 86400_000 - 1, "729d"], [730 * 86400_000, "2y"], [731 * 86400_000, "2y1d"],
    [8 * 365 * 86400_000 - 1, "7y364d"], [8 * 365 * 86400_000, "8y"], [20 * 365 * 86400_000, "20y"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms} ms`);
});

function pod(over: Partial<Pod["status"]> = {}, spec: Partial<Pod["spec"]> = {}, meta: Partial<Pod["metadata"]> = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "web", namespace: "default", creationTimestamp: ago(30), ...meta },
    spec: { containers: [{ name: "a", image: "x" }, { name: "b", image: "y" }], ...spec },
    status: { phase: "Pending", ...over },
  };
}
const cs = (name: string, state: ContainerStatus["state"], extra: Partial<ContainerStatus> = {}): ContainerStatus =>
  ({ name, state, ready: false, restartCount: 0, image: "", imageID: "", ...extra });
const row = (p: Pod): unknown[] => toTable("pods", [p], { now: NOW }).rows[0]?.cells ?? [];
const statusOf = (p: Pod): unknown => row(p)[2];

test("pod STATUS follows printPod: waiting and terminated reasons, last container first", () => {
  assert.equal(statusOf(pod()), "Pending");
  assert.equal(statusOf(pod({ containerStatuses: [cs("a", { waiting: { reason: "ContainerCreating" } }), cs("b", { waiting: { reason: "ContainerCreating" } })] })), "ContainerCreating");
  assert.equal(statusOf(pod({ containerStatuses: [cs("a", { waiting: { reason: "ImagePullBackOff" } }), cs("b", { running: {} }, { ready: true })] })), "ImagePullBackOff");
  assert.equal(statusOf(pod({ phase: "Running", containerStatuses: [cs("a", { running: {} }, { ready: true }), cs("b", { waiting: { reason: "CrashLoopBackOff" } })] })), "CrashLoopBackOff");
  assert.equal(statusOf(pod({ phase: "Succeeded", containerStatuses: [cs("a", { terminated: { exitCode: 0, reason: "Completed" } }), cs("b", { terminated: { exitCode: 0, reason: "Completed" } })] })), "Completed");
  assert.equal(statusOf(pod({ phase: "Failed", containerStatuses: [cs("a", { terminated: { exitCode: 0, reason: "Completed" } }), cs("b", { terminated: { exitCode: 2 } })] })), "Completed");
  assert.equal(statusOf(pod({ phase: "Failed", containerStatuses: [cs("a", { terminated: { exitCode: 2 } })] })), "ExitCode:2");
  assert.equal(statusOf(pod({ phase: "Failed", containerStatuses: [cs("a", { terminated: { exitCode: 137, signal: 9 } })] })), "Signal:9");
  assert.equal(statusOf(pod({ reason: "Evicted", phase: "Failed" })), "Evicted");
});

test("a Completed container beside a running one shows Running or NotReady by the Ready condition", () => {
  const statuses = [cs("a", { running: {} }, { ready: true }), cs("b", { terminated: { exitCode: 0, reason: "Completed" } })];
  assert.equal(statusOf(pod({ phase: "Running", containerStatuses: statuses, conditions: [{ type: "Ready", status: "True" }] })), "Running");
  assert.equal(statusOf(pod({ phase: "Running", containerStatuses: statuses, conditions: [{ type: "Ready", status: "False" }] })), "NotReady");
});

test("READY counts ready running containers and sidecars; wide cells default to <none>", () => {
  const p = pod({ phase: "Running", containerStatuses: [cs("a", { running: {} }, { ready: true }), cs("b", { running: {} }, { ready: false })] });
  assert.deepEqual(row(p), ["web", "1/2", "Running", "0", "30s", "<none>", "<none>", "<none>", "<none>"]);
  const wide = pod({ phase: "Running", podIPs: [{ ip: "10.88.0.5" }], nominatedNodeName: "n2", conditions: [{ type: "X", status: "True" }] },
    { nodeName: "node1", readinessGates: [{ conditionType: "X" }, { conditionType: "Y" }] });
  assert.deepEqual(row(wide).slice(5), ["10.88.0.5", "node1", "n2", "1/2"]);
});

test("init containers give Init:i/n, Init:<reason>, Init:Error, then PodInitializing", () => {
  const spec = { initContainers: [{ name: "i1", image: "x" }, { name: "i2", image: "x" }] };
  assert.equal(statusOf(pod({}, spec)), "Pending");
  assert.equal(statusOf(pod({ initContainerStatuses: [cs("i1", { waiting: { reason: "PodInitializing" } }), cs("i2", { waiting: { reason: "PodInitializing" } })] }, spec)), "Init:0/2");
  assert.equal(statusOf(pod({ initContainerStatuses: [cs("i1", { terminated: { exitCode: 0, reason: "Completed" } }), cs("i2", { running: {} })] }, spec)), "Init:1/2");
  assert.equal(statusOf(pod({ initContainerStatuses: [cs("i1", { terminated: { exitCode: 1, reason: "Error" } }), cs("i2", { waiting: {} })] }, spec)), "Init:Error");
  assert.equal(statusOf(pod({ initContainerStatuses: [cs("i1", { waiting: { reason: "CrashLoopBackOff" } })] }, spec)), "Init:CrashLoopBackOff");
  assert.equal(statusOf(pod({ initContainerStatuses: [cs("i1", { terminated: { exitCode: 3 } })] }, spec)), "Init:ExitCode:3");
  const done = [cs("i1", { terminated: { exitCode: 0, reason: "Completed" } }), cs("i2", { terminated: { exitCode: 0, reason: "Completed" } })];
  assert.equal(statusOf(pod({ initContainerStatuses: done, containerStatuses: [cs("a", { waiting: { reason: "PodInitializing" } }), cs("b", { waiting: { reason: "PodInitializing" } })] }, spec)), "PodInitializing");
});

test("a started sidecar counts toward READY and does not hold the pod in Init", () => {
  const spec = { initContainers: [{ name: "side", image: "x", restartPolicy: "Always" as const }] };
  const p = pod({ phase: "Running", initContainerStatuses: [cs("side", { running: {} }, { ready: true, started: true, restartCount: 1 })],
    containerStatuses: [cs("a", { running: {} }, { ready: true }), cs("b", { running: {} }, { ready: true })] }, spec);
  assert.deepEqual(row(p).slice(1, 4), ["3/3", "Running", "1"]);
});

test("deletionTimestamp shows Terminating unless the phase is terminal; NodeLost shows Unknown", () => {
  assert.equal(statusOf(pod({ phase: "Running" }, {}, { deletionTimestamp: ago(-30) })), "Terminating");
  assert.equal(statusOf(pod({ phase: "Succeeded" }, {}, { deletionTimestamp: ago(-30) })), "Succeeded");
  assert.equal(statusOf(pod({ phase: "Running", reason: "NodeLost" }, {}, { deletionTimestamp: ago(-30) })), "Unknown");
});

test("RESTARTS sums restart counts and says when the last one was", () => {
  const p = pod({ phase: "Running", containerStatuses: [
    cs("a", { running: {} }, { ready: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(600) } } }),
    cs("b", { running: {} }, { ready: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } }),
  ] });
  assert.equal(row(p)[3], "2 (5m ago)");
});

test("the Table carries the column definitions, PartialObjectMetadata rows and the list's resourceVersion", () => {
  const p = pod();
  const t = toTable("pods", [p], { now: NOW, resourceVersion: "125" });
  assert.equal(t.kind, "Table");
  assert.equal(t.apiVersion, "meta.k8s.io/v1");
  assert.deepEqual(t.metadata, { resourceVersion: "125" });
  assert.deepEqual(t.columnDefinitions.map((c) => `${c.name}:${c.priority}`),
    ["Name:0", "Ready:0", "Status:0", "Restarts:0", "Age:0", "IP:1", "Node:1", "Nominated Node:1", "Readiness Gates:1"]);
  assert.deepEqual(t.rows[0]?.object, { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: p.metadata });
  assert.equal(toTable("pods", [p], { now: NOW, includeObject: "None" }).rows[0]?.object, undefined);
  assert.equal(toTable("pods", [p], { now: NOW, includeObject: "Object" }).rows[0]?.object, p);
  assert.deepEqual(toTable("pods", [p], { now: NOW, noHeaders: true }).columnDefinitions, []);
  const done = toTable("pods", [pod({ phase: "Succeeded" })], { now: NOW }).rows[0] as { conditions?: unknown[] };
  assert.equal(done.conditions?.length, 1);
});

test("nodes: Ready/NotReady/Unknown, SchedulingDisabled, roles and the wide columns", () => {
  const node = {
    metadata: { name: "node1", creationTimestamp: ago(7200), labels: { "node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/worker": "" } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: "Ready", status: "True" as const }],
      addresses: [{ type: "InternalIP" as const, address: "10.0.0.1" }, { type: "Hostname" as const, address: "node1" }],
      nodeInfo: { kubeletVersion: "v1.32.4-podyard", osImage: "Debian", kernelVersion: "6.1", containerRuntimeVersion: "podyard://0.1",
        machineID: "", systemUUID: "", bootID: "", kubeProxyVersion: "", operatingSystem: "linux", architecture: "amd64" },
    },
  };
  assert.deepEqual(toTable("nodes", [node], { now: NOW }).rows[0]?.cells,
    ["node1", "Ready,SchedulingDisabled", "control-plane,worker", "120m", "v1.32.4-podyard", "10.0.0.1", "<none>", "Debian", "6.1", "podyard://0.1"]);
  const notReady = { metadata: { name: "n" }, status: { conditions: [{ type: "Ready", status: "Unknown" as const }] } };
  assert.deepEqual(toTable("nodes", [notReady, { metadata: { name: "m" } }], { now: NOW }).rows.map((r) => r.cells.slice(1, 3)),
    [["NotReady", "<none>"], ["Unknown", "<none>"]]);
});

test("events: Last Seen from lastTimestamp, series or eventTime; Object kind/name; source with host", () => {
  const ev = {
    metadata: { name: "web.17f3a2b4c5d6e7f8", namespace: "default" },
    involvedObject: { kind: "Pod", name: "web", fieldPath: "spec.containers{nginx}" },
    reason: "Pulled", message: "Container image \"nginx:1.27\" already present on machine\n", type: "Normal" as const,
    source: { component: "kubelet", host: "node1" }, firstTimestamp: ago(300), lastTimestamp: ago(10), count: 3,
  };
  assert.deepEqual(toTable("events", [ev], { now: NOW }).rows[0]?.cells,
    ["10s", "Normal", "Pulled", "pod/web", "spec.containers{nginx}", "kubelet, node1", "Container image \"nginx:1.27\" already present on machine", "5m", 3, "web.17f3a2b4c5d6e7f8"]);
  const sched = {
    metadata: { name: "web.1" }, involvedObject: { kind: "Pod", name: "web" }, reason: "Scheduled", type: "Normal" as const,
    message: "Successfully assigned default/web to node1", source: {}, eventTime: ago(60), reportingComponent: "default-scheduler",
  };
  assert.deepEqual(toTable("events", [sched], { now: NOW }).rows[0]?.cells.slice(0, 9),
    ["60s", "Normal", "Scheduled", "pod/web", "", "default-scheduler", "Successfully assigned default/web to node1", "60s", 1]);
  const v1 = { apiVersion: "events.k8s.io/v1", metadata: { name: "e" }, regarding: { kind: "Node", name: "node1" }, note: "hi", reason: "R", type: "Warning",
    eventTime: ago(5), series: { count: 4, lastObservedTime: ago(2) }, reportingController: "kubelet", reportingInstance: "node1" };
  assert.deepEqual(toTable("events", [v1], { now: NOW }).rows[0]?.cells.slice(0, 9), ["2s", "Warning", "R", "node/node1", "", "kubelet, node1", "hi", "5s", 4]);
});

test("namespaces, secrets, configmaps, serviceaccounts, leases and the default table", () => {
  const m = (name: string) => ({ name, creationTimestamp: ago(90) });
  const one = (o: object): KubeObject[] => [o as KubeObject];
  assert.deepEqual(toTable("namespaces", one({ metadata: m("default"), status: { phase: "Active" } }), { now: NOW }).rows[0]?.cells, ["default", "Active", "90s"]);
  assert.deepEqual(toTable("secrets", one({ metadata: m("regcred"), type: "kubernetes.io/dockerconfigjson", data: { ".dockerconfigjson": "e30=" } }), { now: NOW }).rows[0]?.cells,
    ["regcred", "kubernetes.io/dockerconfigjson", 1, "90s"]);
  assert.deepEqual(toTable("configmaps", one({ metadata: m("cm"), data: { a: "1" }, binaryData: { b: "AA==" } }), { now: NOW }).rows[0]?.cells, ["cm", 2, "90s"]);
  assert.deepEqual(toTable("serviceaccounts", one({ metadata: m("default") }), { now: NOW }).rows[0]?.cells, ["default", 0, "90s"]);
  assert.deepEqual(toTable("leases", one({ metadata: m("node1"), spec: { holderIdentity: "node1" } }), { now: NOW }).rows[0]?.cells, ["node1", "node1", "90s"]);
  const t = toTable("widgets", [{ metadata: { name: "w", creationTimestamp: "2026-12-03T11:58:30Z" } }], { now: NOW });
  assert.deepEqual(t.columnDefinitions.map((c) => [c.name, c.type]), [["Name", "string"], ["Created At", "date"]]);
  assert.deepEqual(t.rows[0]?.cells, ["w", "2026-12-03T11:58:30Z"]);
});
