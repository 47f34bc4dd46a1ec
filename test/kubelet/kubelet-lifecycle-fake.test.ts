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
