import assert from "node:assert/strict";
import { test } from "node:test";
import type { PodSpec } from "../../../src/api/index.js";
import type { RuntimeContainer } from "../../../src/kubelet/runtime-state.js";
import { convertContainerStatuses, NO_PROBES } from "../../../src/kubelet/status/container-statuses.js";

const T = Date.parse("2026-12-03T10:00:00Z");
const rc = (name: string, n: number, extra: Partial<RuntimeContainer>): RuntimeContainer => ({
  id: `${String(n).repeat(64)}`.slice(0, 64), sandboxId: "s", name, state: "CONTAINER_RUNNING", createdAt: T + n * 1000, startedAt: T + n * 1000, finishedAt: 0,
  exitCode: 0, reason: "", message: "", image: "docker.io/library/busybox:latest", imageRef: "docker.io/library/busybox@sha256:aa", restartCount: n, hash: "", logPath: "", ...extra,
});

test("defaults: ContainerCreating, or PodInitializing when the pod has init containers; image as the spec wrote it", () => {
  const spec: PodSpec = { containers: [{ name: "b", image: "busybox" }, { name: "a", image: "alpine" }] };
  const out = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old: [], reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(out, [
    { name: "a", state: { waiting: { reason: "ContainerCreating" } }, lastState: {}, ready: false, restartCount: 0, image: "alpine", imageID: "", started: false },
    { name: "b", state: { waiting: { reason: "ContainerCreating" } }, lastState: {}, ready: false, restartCount: 0, image: "busybox", imageID: "", started: false },
  ]);
  const withInit: PodSpec = { ...spec, initContainers: [{ name: "i", image: "x" }] };
  const o2 = convertContainerStatuses({ spec: withInit, containers: withInit.containers, kind: "regular", runtime: [], old: [], reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.equal(o2[0]?.state?.waiting?.reason, "PodInitializing");
});

test("newest instance is the state, the one before the lastState; a cached back-off turns an exit into waiting", () => {
  const spec: PodSpec = { containers: [{ name: "app", image: "busybox" }] };
  const runtime = [
    rc("app", 2, { state: "CONTAINER_EXITED", exitCode: 1, reason: "Error", finishedAt: T + 2500 }),
    rc("app", 1, { state: "CONTAINER_EXITED", exitCode: 1, reason: "Error", finishedAt: T + 1500 }),
  ];
  const reasons = new Map([["app", { reason: "CrashLoopBackOff", message: "back-off 20s restarting failed container=app pod=web_default(u)" }]]);
  const [s] = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime, old: [], reasons, probes: NO_PROBES, deleting: false });
  assert.deepEqual(s?.state, { waiting: { reason: "CrashLoopBackOff", message: "back-off 20s restarting failed container=app pod=web_default(u)" } });
  assert.deepEqual(s?.lastState, { terminated: { exitCode: 1, reason: "Error", startedAt: "2026-12-03T10:00:02Z", finishedAt: "2026-12-03T10:00:02Z", containerID: `podyard://${"2".repeat(64)}` } });
  assert.equal(s?.restartCount, 2);
  assert.equal(s?.image, "docker.io/library/busybox:latest");
  assert.equal(s?.imageID, "docker.io/library/busybox@sha256:aa");
  // Never: no restart, so the exit is shown as it is
  const [n] = convertContainerStatuses({ spec: { ...spec, restartPolicy: "Never" }, containers: spec.containers, kind: "regular", runtime, old: [], reasons, probes: NO_PROBES, deleting: false });
  assert.equal(n?.state?.terminated?.exitCode, 1);
});

test("a container that vanished after running gets the kubelet's ContainerStatusUnknown lastState", () => {
  const spec: PodSpec = { containers: [{ name: "app", image: "busybox" }] };
  const old = [{ name: "app", state: { running: { startedAt: "x" } }, ready: true, restartCount: 2, image: "i", imageID: "" }];
  const [s] = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old, reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(s?.lastState, { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was deleted.  The container used to be Running" } });
  assert.equal(s?.restartCount, 3);
});

test("a regular init container the runtime no longer has, once a regular container exists, is Completed with the kubelet's message; a sidecar is not", () => {
  const spec: PodSpec = { initContainers: [{ name: "init", image: "busybox" }, { name: "side", image: "busybox", restartPolicy: "Always" }], containers: [{ name: "app", image: "busybox" }] };
  const runtime = [rc("app", 1, {})];
  const out = convertContainerStatuses({ spec, containers: spec.initContainers ?? [], kind: "init", runtime, old: [], reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(out[0]?.state, { terminated: { exitCode: 0, reason: "Completed", message: "Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally" } });
  assert.deepEqual(out[1]?.state, { waiting: { reason: "PodInitializing" } });
  // before initialization the init container is just waiting
  const before = convertContainerStatuses({ spec, containers: spec.initContainers ?? [], kind: "init", runtime: [], old: [], reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(before[0]?.state, { waiting: { reason: "PodInitializing" } });
  // a terminated status written before is kept as it was
  const old = [{ name: "init", state: { terminated: { exitCode: 0, reason: "Completed", finishedAt: "2026-12-03T10:00:01Z", containerID: "podyard://x" } }, lastState: {}, ready: true, restartCount: 0, image: "busybox", imageID: "sha256:aa", started: false }];
  const kept = convertContainerStatuses({ spec, containers: spec.initContainers ?? [], kind: "init", runtime, old, reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(kept[0], old[0]);
});

test("a terminated status the runtime no longer has is kept as it was, for a Failed (Evicted) pod and for a Succeeded pod", () => {
  const spec: PodSpec = { restartPolicy: "Never", containers: [{ name: "writer", image: "busybox" }, { name: "app", image: "busybox" }] };
  const term = (name: string, exitCode: number, reason: string, n: number) => ({
    name, state: { terminated: { exitCode, reason, startedAt: "2026-12-03T10:00:01Z", finishedAt: "2026-12-03T10:00:09Z", containerID: `podyard://${String(n).repeat(64)}` } },
    lastState: {}, ready: false, restartCount: 0, image: "docker.io/library/busybox:latest", imageID: "docker.io/library/busybox@sha256:aa", containerID: `podyard://${String(n).repeat(64)}`, started: false,
  });
  const evicted = [term("app", 137, "Error", 1), term("writer", 137, "Error", 2)];
  const out = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old: evicted, reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(out, evicted);
  const done = [term("app", 0, "Completed", 3), term("writer", 0, "Completed", 4)];
  assert.deepEqual(convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old: done, reasons: new Map(), probes: NO_PROBES, deleting: false }), done);
  // being deleted changes nothing
  assert.deepEqual(convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old: done, reasons: new Map(), probes: NO_PROBES, deleting: true }), done);
  // what the runtime has still wins over the old status
  const [fresh] = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [rc("app", 5, {})], old: done, reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(fresh?.state, { running: { startedAt: "2026-12-03T10:00:05Z" } });
});

test("a running container the runtime lost: waiting with the ContainerStatusUnknown lastState; no restart counted while deleting; an old lastState is kept", () => {
  const spec: PodSpec = { containers: [{ name: "app", image: "busybox" }] };
  const old = [{ name: "app", state: { running: { startedAt: "2026-12-03T10:00:01Z" } }, lastState: {}, ready: true, restartCount: 2, image: "i", imageID: "", started: true }];
  const [s] = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old, reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(s?.state, { waiting: { reason: "ContainerCreating" } });
  assert.deepEqual(s?.lastState, { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was deleted.  The container used to be Running" } });
  assert.equal(s?.restartCount, 3);
  assert.equal(s?.ready, false);
  const [d] = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old, reasons: new Map(), probes: NO_PROBES, deleting: true });
  assert.equal(d?.lastState?.terminated?.reason, "ContainerStatusUnknown");
  assert.equal(d?.restartCount, 2);
  const last = { terminated: { exitCode: 1, reason: "Error", finishedAt: "2026-12-03T10:00:00Z", containerID: "podyard://x" } };
  const [k] = convertContainerStatuses({ spec, containers: spec.containers, kind: "regular", runtime: [], old: [{ ...old[0]!, lastState: last }], reasons: new Map(), probes: NO_PROBES, deleting: false });
  assert.deepEqual(k?.lastState, last);
  assert.equal(k?.restartCount, 2);
});
