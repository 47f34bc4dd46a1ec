import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerStatus, PodSpec } from "../../../src/api/index.js";
import { generateConditions } from "../../../src/kubelet/status/conditions.js";

const st = (name: string, ready: boolean, extra: Partial<ContainerStatus> = {}): ContainerStatus => ({
  name, ready, restartCount: 0, image: "i", imageID: "", state: ready ? { running: {} } : { waiting: { reason: "ContainerCreating" } }, ...extra,
});

test("the kubelet's five conditions, in its order, with the unready list as Go prints it", () => {
  const spec: PodSpec = { containers: [{ name: "web" }, { name: "db" }] };
  const c = generateConditions({ spec, initStatuses: [], statuses: [st("db", false), st("web", false)], phase: "Pending", sandboxReady: false, old: [], now: "2026-12-03T10:00:00Z" });
  assert.deepEqual(c.map((x) => x.type), ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]);
  assert.deepEqual(c[2], { type: "Ready", status: "False", reason: "ContainersNotReady", message: "containers with unready status: [web db]", lastProbeTime: null, lastTransitionTime: "2026-12-03T10:00:00Z" });
  assert.equal(c[0]?.status, "False");
  assert.equal(c[4]?.status, "True");
});

test("lastTransitionTime moves only when a condition's status changes; other writers' conditions come first", () => {
  const spec: PodSpec = { containers: [{ name: "web" }] };
  const first = generateConditions({ spec, initStatuses: [], statuses: [st("web", false)], phase: "Pending", sandboxReady: true, old: [{ type: "DisruptionTarget", status: "False" }], now: "2026-12-03T10:00:00Z" });
  const second = generateConditions({ spec, initStatuses: [], statuses: [st("web", true)], phase: "Running", sandboxReady: true, old: first, now: "2026-12-03T10:00:05Z" });
  assert.equal(second[0]?.type, "DisruptionTarget");
  const by = (t: string) => second.find((c) => c.type === t);
  assert.equal(by("PodReadyToStartContainers")?.lastTransitionTime, "2026-12-03T10:00:00Z");
  assert.equal(by("Ready")?.lastTransitionTime, "2026-12-03T10:00:05Z");
  assert.equal(by("Ready")?.status, "True");
  assert.equal(by("Ready")?.reason, undefined);
});

test("Initialized lists the init containers that have not completed; a finished pod is never ready", () => {
  const spec: PodSpec = { containers: [{ name: "app" }], initContainers: [{ name: "i1" }, { name: "i2" }] };
  const c = generateConditions({ spec, initStatuses: [st("i1", true), st("i2", false)], statuses: [st("app", false)], phase: "Pending", sandboxReady: true, old: [], now: "t" });
  assert.deepEqual({ ...c[1], lastTransitionTime: undefined }, { type: "Initialized", status: "False", reason: "ContainersNotInitialized", message: "containers with incomplete status: [i2]", lastProbeTime: null, lastTransitionTime: undefined });
  const done = generateConditions({ spec: { containers: [{ name: "app" }] }, initStatuses: [], statuses: [st("app", false, { state: { terminated: { exitCode: 0 } } })], phase: "Succeeded", sandboxReady: false, old: [], now: "t" });
  assert.equal(done.find((x) => x.type === "ContainersReady")?.reason, "PodCompleted");
  assert.equal(done.find((x) => x.type === "Ready")?.reason, "PodCompleted");
});
