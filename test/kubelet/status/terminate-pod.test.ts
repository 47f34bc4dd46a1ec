/** statusManager.TerminatePod: which containers a terminated pod reports as ContainerStatusUnknown. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerStatus, PodStatus } from "../../../src/api/index.js";
import { terminatePodStatus } from "../../../src/kubelet/status/generate.js";

const waiting = (name: string, reason: string): ContainerStatus => ({ name, state: { waiting: { reason } }, lastState: {}, ready: false, restartCount: 0, image: "alpine", imageID: "" });
const exited = (name: string, exitCode: number): ContainerStatus => ({
  name, state: { terminated: { exitCode, reason: exitCode === 0 ? "Completed" : "Error" } }, lastState: {}, ready: false, restartCount: 0, image: "alpine", imageID: "",
});
const running = (name: string): ContainerStatus => ({ name, state: { running: { startedAt: "2026-12-03T00:00:00Z" } }, lastState: {}, ready: true, restartCount: 0, image: "alpine", imageID: "" });
const unknown = { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was terminated" } };

test("a failed init container under restartPolicy Never: the init containers after it and the app containers keep waiting", () => {
  const status: PodStatus = {
    phase: "Failed",
    initContainerStatuses: [exited("i1", 2), waiting("i2", "PodInitializing")],
    containerStatuses: [waiting("app", "PodInitializing")],
  };
  const out = terminatePodStatus(status);
  assert.deepEqual(out.initContainerStatuses?.map((s) => s.state), [{ terminated: { exitCode: 2, reason: "Error" } }, { waiting: { reason: "PodInitializing" } }]);
  assert.deepEqual(out.containerStatuses?.[0]?.state, { waiting: { reason: "PodInitializing" } });
  assert.equal(out.phase, "Failed");
});

test("an initialized pod: a container still running or waiting becomes ContainerStatusUnknown and the pod Failed", () => {
  const status: PodStatus = {
    phase: "Running",
    initContainerStatuses: [exited("i1", 0)],
    containerStatuses: [running("a"), waiting("b", "ContainerCreating")],
  };
  const out = terminatePodStatus(status);
  assert.deepEqual(out.containerStatuses?.map((s) => s.state), [unknown, unknown]);
  assert.equal(out.containerStatuses?.[0]?.ready, false);
  assert.equal(out.phase, "Failed");
});

test("a pod without init containers counts as initialized; terminated containers keep their state", () => {
  const out = terminatePodStatus({ phase: "Pending", containerStatuses: [exited("done", 0), waiting("never", "ContainerCreating")] });
  assert.deepEqual(out.containerStatuses?.map((s) => s.state), [{ terminated: { exitCode: 0, reason: "Completed" } }, unknown]);
});
