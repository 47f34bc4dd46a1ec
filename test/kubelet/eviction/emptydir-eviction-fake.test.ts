/**
 * emptyDir sizeLimit on a whole Kubelet (fake API, runtime and clock): the eviction manager looks
 * every 10 s; a pod over its limit gets a Warning Evicted event, its containers are stopped with
 * the immediate eviction grace (the runtime's 2 s minimum), and it ends Failed/Evicted with the
 * kubelet's message; a pod under its limit and a static pod over it are left running.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Pod } from "../../../src/api/index.js";
import { advance, events, PODS, podOf, settle, setup, spec, T0, until } from "../fake-env.js";

async function fill(home: string, pod: Pod, volume: string, bytes: number): Promise<void> {
  const dir = join(home, "kubelet", "pods", pod.metadata.uid ?? "", "volumes", "kubernetes.io~empty-dir", volume);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "data"), Buffer.alloc(bytes, 1));
}

test("an emptyDir over its sizeLimit evicts the pod at the next 10 s look: Warning Evicted, containers stopped with 2 s, Failed/Evicted", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  const hog = env.api.put(PODS, spec("hog", [{ name: "a", image: "busybox" }, { name: "b", image: "busybox" }], {
    terminationGracePeriodSeconds: 30, restartPolicy: "Always",
    volumes: [{ name: "cache", emptyDir: { sizeLimit: "10Mi" } }, { name: "scratch", emptyDir: { sizeLimit: "1.5Mi" } }],
  })) as Pod;
  const calm = env.api.put(PODS, spec("calm", [{ name: "c", image: "busybox" }], { volumes: [{ name: "scratch", emptyDir: { sizeLimit: "4Mi" } }] })) as Pod;
  await until(() => podOf(env.api, "hog")?.status?.phase === "Running" && podOf(env.api, "calm")?.status?.phase === "Running", "Running");
  await settle(env);
  await fill(env.home, hog, "cache", 1 << 20);
  await fill(env.home, hog, "scratch", 2 << 20);
  await fill(env.home, calm, "scratch", 2 << 20);
  const stops: string[] = [];
  const stop = env.rt.stopContainer.bind(env.rt);
  env.rt.stopContainer = (id, timeout) => {
    stops.push(`${env.clock.now() - T0} ${timeout}`);
    return stop(id, timeout);
  };
  await advance(env, 9);
  assert.deepEqual(stops, [], "nothing before the first look at 10 s");
  assert.equal(podOf(env.api, "hog")?.status?.phase, "Running");
  await advance(env, 1);
  await until(() => podOf(env.api, "hog")?.status?.phase === "Failed", "Failed");
  assert.deepEqual(stops, ["10000 2", "10000 2"], "both containers stopped at once with the 2 s minimum, not the pod's 30 s");
  const st = podOf(env.api, "hog")?.status;
  assert.equal(st?.reason, "Evicted");
  assert.equal(st?.message, 'Usage of EmptyDir volume "scratch" exceeds the limit "1536Ki". ');
  assert.ok(st?.containerStatuses?.every((c) => c.state?.terminated), "containers terminated");
  const patches = env.api.requests("PATCH", /\/pods\/hog\/status$/).map((r) => (r.body as { status: Pod["status"] }).status);
  const firstFailed = patches.findIndex((p) => p?.phase === "Failed");
  assert.ok(patches[firstFailed]?.containerStatuses?.every((c) => c.state?.terminated), "Failed only once the containers stopped");
  await until(() => events(env.api).some((e) => e.reason === "Evicted"), "event");
  const evs = events(env.api).filter((e) => e.reason === "Evicted");
  assert.equal(evs.length, 1);
  assert.equal(evs[0]?.type, "Warning");
  assert.equal(evs[0]?.message, 'Usage of EmptyDir volume "scratch" exceeds the limit "1536Ki". ');
  assert.equal(evs[0]?.involvedObject.name, "hog");
  assert.equal(evs[0]?.involvedObject.fieldPath, undefined);
  assert.equal(evs[0]?.source?.component, "kubelet");

  await advance(env, 25);
  assert.equal(env.rt.calls.filter((c) => c.startsWith("startContainer")).length, 3, "nothing restarted (restartPolicy Always)");
  assert.equal(podOf(env.api, "hog")?.status?.phase, "Failed");
  assert.equal(events(env.api).filter((e) => e.reason === "Evicted").length, 1, "evicted once");
  assert.equal(podOf(env.api, "calm")?.status?.phase, "Running", "2 MiB of 4 MiB: left alone");
  assert.deepEqual(stops, ["10000 2", "10000 2"]);
});

test("an evicted pod deleted later is not stopped again, and its object is removed", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  const pod = env.api.put(PODS, spec("gone", [{ name: "a", image: "busybox" }], { volumes: [{ name: "v", emptyDir: { sizeLimit: "1Mi" } }] })) as Pod;
  await until(() => podOf(env.api, "gone")?.status?.phase === "Running", "Running");
  await settle(env);
  await fill(env.home, pod, "v", 2 << 20);
  await advance(env, 10);
  await until(() => podOf(env.api, "gone")?.status?.phase === "Failed", "Failed");
  assert.equal(podOf(env.api, "gone")?.status?.message, 'Usage of EmptyDir volume "v" exceeds the limit "1Mi". ');
  const stopsBefore = env.rt.calls.filter((c) => c.startsWith("stopContainer")).length;
  await env.client.delete(`${PODS}/gone`);
  await advance(env, 3);
  await until(() => podOf(env.api, "gone") === undefined, "the object removed");
  assert.equal(env.rt.calls.filter((c) => c.startsWith("stopContainer")).length, stopsBefore, "no second stop");
});

test("after a kubelet restart an evicted pod stays Failed/Evicted and nothing of it is started again", async (t) => {
  const env = await setup(t);
  const k1 = env.newKubelet();
  await k1.start();
  const pod = env.api.put(PODS, spec("ev", [{ name: "a", image: "busybox" }], { volumes: [{ name: "v", emptyDir: { sizeLimit: "1Mi" } }] })) as Pod;
  await until(() => podOf(env.api, "ev")?.status?.phase === "Running", "Running");
  await settle(env);
  await fill(env.home, pod, "v", 2 << 20);
  await advance(env, 10);
  await until(() => podOf(env.api, "ev")?.status?.phase === "Failed", "Failed");
  await k1.stop();
  const starts = env.rt.calls.filter((c) => c.startsWith("startContainer")).length;
  const k2 = env.newKubelet();
  await k2.start();
  await advance(env, 25);
  assert.equal(env.rt.calls.filter((c) => c.startsWith("startContainer")).length, starts);
  const st = podOf(env.api, "ev")?.status;
  assert.equal(st?.phase, "Failed");
  assert.equal(st?.reason, "Evicted");
  assert.equal(st?.message, 'Usage of EmptyDir volume "v" exceeds the limit "1Mi". ');
  assert.equal(events(env.api).filter((e) => e.reason === "Evicted").length, 1, "the new kubelet does not evict it again");
});

test("after podyard down and up an evicted pod keeps its containers' terminated statuses (exit 137, Error, containerID, times), not ContainerStatusUnknown", async (t) => {
  const env = await setup(t);
  const k1 = env.newKubelet();
  await k1.start();
  const pod = env.api.put(PODS, spec("ev2", [{ name: "a", image: "busybox" }, { name: "b", image: "busybox" }], { volumes: [{ name: "v", emptyDir: { sizeLimit: "1Mi" } }] })) as Pod;
  await until(() => podOf(env.api, "ev2")?.status?.phase === "Running", "Running");
  await settle(env);
  await fill(env.home, pod, "v", 2 << 20);
  await advance(env, 10);
  await until(() => podOf(env.api, "ev2")?.status?.phase === "Failed", "Failed");
  await settle(env);
  const before = podOf(env.api, "ev2")?.status;
  assert.ok(before?.containerStatuses?.every((c) => c.state?.terminated?.containerID && c.state.terminated.finishedAt && c.state.terminated.reason !== "ContainerStatusUnknown"), JSON.stringify(before?.containerStatuses));
  await k1.stopAndRemoveAllPods();
  assert.equal(env.rt.ctrs.size, 0);
  await env.newKubelet().start();
  await advance(env, 5);
  const st = podOf(env.api, "ev2")?.status;
  assert.equal(st?.phase, "Failed");
  assert.equal(st?.reason, "Evicted");
  assert.deepEqual(st?.containerStatuses, before?.containerStatuses);
});

test("podPidsLimit reaches every pod's sandbox as linux.resources.pidsLimit, the node's pods capacity unchanged; without it, none", async (t) => {
  const env = await setup(t);
  await env.newKubelet({ podPidsLimit: 50 }).start();
  env.api.put(PODS, spec("p1", [{ name: "a", image: "busybox" }]));
  await until(() => podOf(env.api, "p1")?.status?.phase === "Running", "Running");
  assert.deepEqual([...env.rt.boxes.values()].map((b) => b.config.linux?.resources), [{ pidsLimit: 50 }]);
  const node = env.api.get("/api/v1/nodes/n1") as { status?: { capacity?: Record<string, string>; allocatable?: Record<string, string> } };
  assert.equal(node.status?.capacity?.pods, "110");
  assert.equal(node.status?.allocatable?.pods, "110");

  const plain = await setup(t);
  await plain.newKubelet().start();
  plain.api.put(PODS, spec("p2", [{ name: "a", image: "busybox" }]));
  await until(() => podOf(plain.api, "p2")?.status?.phase === "Running", "Running");
  assert.deepEqual([...plain.rt.boxes.values()].map((b) => b.config.linux?.resources), [undefined]);
});
