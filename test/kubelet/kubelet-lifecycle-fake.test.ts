/**
 * More of the pod's life on a whole Kubelet (fake API, runtime and clock): the active deadline,
 * init containers the runtime lost, a volume that never mounts, the status written when
 * terminating starts, and termination messages read from the container's file or log.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "../../src/api/index.js";
import { advance, events, PODS, podOf, settle, setup, spec, T0, until } from "./fake-env.js";

test("activeDeadlineSeconds: at the deadline the pod is Failed with DeadlineExceeded, a Normal event, and its containers killed", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  env.api.put(PODS, spec("dl", [{ name: "a", image: "busybox" }, { name: "b", image: "busybox" }], { activeDeadlineSeconds: 5, terminationGracePeriodSeconds: 7 }));
  await until(() => podOf(env.api, "dl")?.status?.phase === "Running", "Running");
  await settle(env);
  const stops: number[] = [];
  const stop = env.rt.stopContainer.bind(env.rt);
  env.rt.stopContainer = (id, timeout) => {
    stops.push(env.clock.now() - T0);
    return stop(id, timeout);
  };
  await advance(env, 4);
  assert.equal(podOf(env.api, "dl")?.status?.phase, "Running", "still running at 4 s");
  assert.deepEqual(stops, []);
  await advance(env, 1);
  await until(() => podOf(env.api, "dl")?.status?.phase === "Failed", "Failed");
  assert.deepEqual(stops, [5000, 5000], "both containers killed at the deadline");
  assert.ok(env.rt.calls.includes("stopContainer a 7") && env.rt.calls.includes("stopContainer b 7"), env.rt.calls.join(", "));
  const st = podOf(env.api, "dl")?.status;
  assert.equal(st?.reason, "DeadlineExceeded");
  assert.equal(st?.message, "Pod was active on the node longer than the specified deadline");
  assert.deepEqual(st?.containerStatuses?.map((c) => `${c.name}:${c.state?.terminated?.exitCode ?? "-"}`), ["a:143", "b:143"]);
  assert.equal(st?.conditions?.find((c) => c.type === "Ready")?.reason, "PodFailed");
  // no status said Failed while a container still ran
  const patches = env.api.requests("PATCH", /\/pods\/dl\/status$/).map((r) => (r.body as { status: Pod["status"] }).status);
  const firstFailed = patches.findIndex((p) => p?.phase === "Failed");
  assert.ok(patches[firstFailed]?.containerStatuses?.every((c) => c.state?.terminated), "Failed only once the containers stopped");
  await until(() => events(env.api).some((e) => e.reason === "DeadlineExceeded"), "event");
  const ev = events(env.api).find((e) => e.reason === "DeadlineExceeded");
  assert.equal(ev?.type, "Normal");
  assert.equal(ev?.message, "Pod was active on the node longer than the specified deadline");
  assert.equal(ev?.involvedObject.kind, "Pod");
  assert.equal(ev?.involvedObject.fieldPath, undefined);
  await advance(env, 3);
  assert.equal(env.rt.calls.filter((c) => c.startsWith("startContainer")).length, 2, "nothing started again");
  assert.equal(podOf(env.api, "dl")?.status?.phase, "Failed");
});

test("init containers the runtime lost after the pod initialized are not run again; a re-created sandbox runs them again (SandboxChanged)", async (t) => {
  const env = await setup(t);
  env.rt.script = (name) => (name.startsWith("init") ? { exitCode: 0 } : {});
  await env.newKubelet().start();
  env.api.put(PODS, { ...spec("reinit", []), spec: { nodeName: "n1", initContainers: [{ name: "init1", image: "busybox" }, { name: "init2", image: "busybox" }], containers: [{ name: "app", image: "busybox" }] } });
  await until(() => env.rt.calls.includes("startContainer init1"), "init1");
  await settle(env);
  await advance(env, 3);
  await until(() => podOf(env.api, "reinit")?.status?.phase === "Running", "Running");
  const starts = (): string[] => env.rt.calls.filter((c) => c.startsWith("startContainer"));
  assert.deepEqual(starts(), ["startContainer init1", "startContainer init2", "startContainer app"]);

  // the runtime loses the finished init containers (garbage collection, a runtime reset)
  for (const [id, c] of env.rt.ctrs) if (c.config.metadata.name.startsWith("init")) await env.rt.removeContainer(id);
  await advance(env, 3);
  assert.deepEqual(starts(), ["startContainer init1", "startContainer init2", "startContainer app"], "not run again");
  let st = podOf(env.api, "reinit")?.status;
  assert.equal(st?.phase, "Running");
  assert.deepEqual(st?.initContainerStatuses?.map((c) => `${c.name}:${c.state?.terminated?.reason ?? "?"}:${c.state?.terminated?.exitCode ?? "?"}`), ["init1:Completed:0", "init2:Completed:0"]);
  assert.equal(st?.conditions?.find((c) => c.type === "Initialized")?.status, "True");

  // the sandbox goes: a new one is made, and the pod starts over from its first init container
  const box = [...env.rt.boxes.values()][0];
  assert.ok(box);
  await env.rt.stopPodSandbox(box.id);
  await advance(env, 4);
  await until(() => starts().length === 6, "started again");
  assert.deepEqual(starts().slice(3), ["startContainer init1", "startContainer init2", "startContainer app"]);
  assert.equal(env.rt.calls.filter((c) => c.startsWith("runPodSandbox")).length, 2);
  await until(() => events(env.api).some((e) => e.reason === "SandboxChanged"), "SandboxChanged");
  const ev = events(env.api).find((e) => e.reason === "SandboxChanged");
  assert.equal(ev?.type, "Normal");
  assert.equal(ev?.message, "Pod sandbox changed, it will be killed and re-created.");
  await until(() => podOf(env.api, "reinit")?.status?.containerStatuses?.[0]?.state?.running !== undefined, "app running again");
  st = podOf(env.api, "reinit")?.status;
  assert.equal(st?.phase, "Running");
  assert.equal(st?.containerStatuses?.[0]?.restartCount, 1);
  assert.equal(st?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137);
});
