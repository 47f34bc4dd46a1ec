import assert from "node:assert/strict";
import { test } from "node:test";
import type { ContainerStatus, PodSpec } from "../../../src/api/index.js";
import { getPhase } from "../../../src/kubelet/status/phase.js";

const running = (name: string): ContainerStatus => ({ name, state: { running: { startedAt: "2026-01-01T00:00:00Z" } }, ready: true, restartCount: 0, image: "i", imageID: "", started: true });
const exited = (name: string, exitCode: number): ContainerStatus => ({ name, state: { terminated: { exitCode } }, ready: false, restartCount: 0, image: "i", imageID: "" });
const waiting = (name: string, reason = "ContainerCreating", last?: number): ContainerStatus => ({
  name, state: { waiting: { reason } }, ...(last !== undefined ? { lastState: { terminated: { exitCode: last } } } : {}), ready: false, restartCount: 0, image: "i", imageID: "",
});
const spec = (policy: PodSpec["restartPolicy"], names: string[], inits: string[] = []): PodSpec => ({
  restartPolicy: policy, containers: names.map((name) => ({ name })), ...(inits.length ? { initContainers: inits.map((name) => ({ name })) } : {}),
});

test("a pod whose containers are being created is Pending", () => {
  assert.equal(getPhase(spec("Always", ["a", "b"]), [], [waiting("a"), waiting("b")], false, false), "Pending");
});

test("all containers running: Running; one running and one crash-looping is still Running", () => {
  assert.equal(getPhase(spec("Always", ["a", "b"]), [], [running("a"), running("b")], false, true), "Running");
  assert.equal(getPhase(spec("Always", ["a", "b"]), [], [running("a"), waiting("b", "CrashLoopBackOff", 1)], false, true), "Running");
});

test("Never: all exited 0 is Succeeded, one failure is Failed; Always keeps Running; OnFailure success is Succeeded", () => {
  assert.equal(getPhase(spec("Never", ["a", "b"]), [], [exited("a", 0), exited("b", 0)], false, true), "Succeeded");
  assert.equal(getPhase(spec("Never", ["a", "b"]), [], [exited("a", 0), exited("b", 2)], false, true), "Failed");
  assert.equal(getPhase(spec("Always", ["a"]), [], [exited("a", 0)], false, true), "Running");
  assert.equal(getPhase(spec("OnFailure", ["a"]), [], [exited("a", 0)], false, true), "Succeeded");
  assert.equal(getPhase(spec("OnFailure", ["a"]), [], [waiting("a", "CrashLoopBackOff", 1)], false, true), "Running");
});

test("a terminal pod (deleted) is Succeeded only when every container exited 0", () => {
  assert.equal(getPhase(spec("Always", ["a"]), [], [exited("a", 0)], true, true), "Succeeded");
  assert.equal(getPhase(spec("Always", ["a"]), [], [exited("a", 143)], true, true), "Failed");
});

test("init containers: pending while one runs, Failed when one fails under Never, Pending (restarting) otherwise", () => {
  const s = spec("Never", ["app"], ["i1", "i2"]);
  assert.equal(getPhase(s, [exited("i1", 0), running("i2")], [waiting("app", "PodInitializing")], false, false), "Pending");
  assert.equal(getPhase(s, [exited("i1", 3)], [waiting("app", "PodInitializing")], false, false), "Failed");
  assert.equal(getPhase(spec("Always", ["app"], ["i1"]), [waiting("i1", "CrashLoopBackOff", 3)], [waiting("app", "PodInitializing")], false, false), "Pending");
  assert.equal(getPhase(s, [exited("i1", 0), exited("i2", 0)], [running("app")], false, true), "Running");
});

test("a sidecar that is running but not started keeps the pod Pending until the pod initialized", () => {
  const s: PodSpec = { containers: [{ name: "app" }], initContainers: [{ name: "side", restartPolicy: "Always" }] };
  const side = { ...running("side"), started: false };
  assert.equal(getPhase(s, [side], [waiting("app", "PodInitializing")], false, false), "Pending");
  assert.equal(getPhase(s, [{ ...side, started: true }], [running("app")], false, true), "Running");
});
