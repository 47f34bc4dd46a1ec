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
  const pod: Pod = { ...spec("reinit", []), spec: { nodeName: "n1", initContainers: [{ name: "init1", image: "busybox" }, { name: "init2", image: "busybox" }], containers: [{ name: "app", image: "busybox" }] } };
  env.api.put(PODS, pod);
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

test("a volume that cannot be set up: FailedMount per attempt, and after 2m3s on the clock the kubelet's wait times out with the volume named", async (t) => {
  const env = await setup(t);
  await env.newKubelet({ realHelpers: true }).start();
  env.api.put(PODS, spec("mnt", [{ name: "app", image: "busybox", volumeMounts: [{ name: "cfg", mountPath: "/cfg" }] }], { volumes: [{ name: "cfg", configMap: { name: "cfg" } }] }));
  await until(() => events(env.api).some((e) => e.reason === "FailedMount"), "FailedMount");
  const perAttempt = 'MountVolume.SetUp failed for volume "cfg" : configmap "cfg" not found';
  assert.equal(events(env.api).find((e) => e.reason === "FailedMount")?.message, perAttempt);
  const timeout = "Unable to attach or mount volumes: unmounted volumes=[cfg], unattached volumes=[cfg], failed to process volumes=[]: timed out waiting for the condition";
  const timedOut = (): boolean => events(env.api).some((e) => e.reason === "FailedMount" && e.message === timeout);
  await settle(env);
  await advance(env, 12, 10_000);
  assert.ok(!timedOut(), "not yet at 2m0s");
  await advance(env, 2, 1000);
  assert.ok(!timedOut(), "not yet at 2m2s");
  await advance(env, 1, 1000);
  await until(timedOut, "the wait's timeout at 2m3s");
  const ev = events(env.api).find((e) => e.message === timeout);
  assert.equal(ev?.type, "Warning");
  assert.equal(ev?.lastTimestamp, "2026-12-03T10:02:03Z");
  assert.ok((events(env.api).find((e) => e.message === perAttempt)?.count ?? 0) > 1, "one FailedMount per attempt, counted");
  assert.equal(podOf(env.api, "mnt")?.status?.containerStatuses?.[0]?.state?.waiting?.reason, "ContainerCreating");
  assert.ok(!env.rt.calls.some((c) => c.startsWith("runPodSandbox")), "no sandbox before the volumes");
  // the ConfigMap appears: the next attempt mounts it and the pod runs
  await env.client.create("/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "default" }, data: { a: "1" } });
  await advance(env, 11, 1000);
  await until(() => podOf(env.api, "mnt")?.status?.phase === "Running", "Running");
});

test("when terminating starts the status is written once (phase unchanged) before any container is stopped", async (t) => {
  const env = await setup(t);
  env.rt.script = (name) => (name === "crash" ? { exitCode: 1 } : {});
  await env.newKubelet().start();
  env.api.put(PODS, spec("term", [{ name: "a", image: "busybox" }, { name: "crash", image: "busybox" }], { terminationGracePeriodSeconds: 20 }));
  await until(() => env.rt.calls.includes("startContainer crash"), "first start");
  await settle(env);
  await advance(env, 2);
  await until(() => podOf(env.api, "term")?.status?.containerStatuses?.find((c) => c.name === "crash")?.state?.waiting?.reason === "CrashLoopBackOff", "CrashLoopBackOff");
  await settle(env);
  const statusPatches = (): { status: Pod["status"] }[] => env.api.requests("PATCH", /\/pods\/term\/status$/).map((r) => r.body as { status: Pod["status"] });
  const before = statusPatches().length;
  let atStop: { status: Pod["status"] }[] | undefined;
  const stop = env.rt.stopContainer.bind(env.rt);
  env.rt.stopContainer = (id, timeout) => {
    atStop ??= statusPatches().slice(before);
    return stop(id, timeout);
  };
  await env.client.delete(`${PODS}/term`, { gracePeriodSeconds: 20 });
  await until(() => !podOf(env.api, "term"), "object removed");
  assert.ok(atStop, "a container was stopped");
  assert.equal(atStop.length, 1, "one status write before the first stop");
  const st = atStop[0]?.status;
  assert.equal(st?.phase, "Running", "phase unchanged");
  const cs = st?.containerStatuses ?? [];
  assert.deepEqual(cs.map((c) => `${c.name}:${Object.keys(c.state ?? {})[0] ?? ""}`), ["a:running", "crash:terminated"], "no more back-off: the crashed container shows its exit");
  assert.ok(env.rt.calls.includes("stopContainer a 20"), env.rt.calls.join(", "));
  const last = statusPatches().at(-1)?.status;
  assert.equal(last?.phase, "Failed");
});

test("termination messages end to end: the file the container wrote, or with FallbackToLogsOnError the log's last 80 lines (at most 2048 bytes)", async (t) => {
  const env = await setup(t);
  env.rt.realLogPaths = true;
  const long = Array.from({ length: 100 }, (_, i) => `line ${String(i + 1).padStart(3, "0")} ${"x".repeat(40)}`);
  env.rt.script = (name) => {
    if (name === "file") return { exitCode: 0, writeFile: { path: "/dev/termination-log", data: "all done" } };
    if (name === "custom") return { exitCode: 2, writeFile: { path: "/tmp/why", data: "disk full" }, log: ["ignored"] };
    if (name === "logs") return { exitCode: 1, log: long };
    if (name === "short") return { exitCode: 3, log: ["one", "two"] };
    if (name === "nofallback") return { exitCode: 1, log: ["not read"] };
    return {};
  };
  await env.newKubelet({ realHelpers: true }).start();
  env.api.put(PODS, spec("tm", [
    { name: "file", image: "busybox" },
    { name: "custom", image: "busybox", terminationMessagePath: "/tmp/why", terminationMessagePolicy: "FallbackToLogsOnError" },
    { name: "logs", image: "busybox", terminationMessagePolicy: "FallbackToLogsOnError" },
    { name: "short", image: "busybox", terminationMessagePolicy: "FallbackToLogsOnError" },
    { name: "nofallback", image: "busybox" },
  ], { restartPolicy: "Never" }));
  await until(() => podOf(env.api, "tm")?.status?.phase === "Failed", "Failed");
  const msg = (name: string): string | undefined => podOf(env.api, "tm")?.status?.containerStatuses?.find((c) => c.name === name)?.state?.terminated?.message;
  assert.equal(msg("file"), "all done");
  assert.equal(msg("custom"), "disk full", "the file wins over the logs");
  const tail = `${long.slice(-80).join("\n")}\n`;
  assert.equal(msg("logs"), tail.slice(-2048), "the last 80 lines, cut to their last 2048 bytes");
  assert.equal(msg("short"), "one\ntwo\n");
  assert.equal(msg("nofallback"), undefined, "policy File: an empty file gives no message");
});

test("activeDeadlineSeconds: a pod that finished before its deadline stays Succeeded, also for a new kubelet after the deadline", async (t) => {
  const env = await setup(t);
  env.rt.script = () => ({ exitCode: 0 });
  const k1 = env.newKubelet();
  await k1.start();
  env.api.put(PODS, spec("early", [{ name: "once", image: "busybox" }], { restartPolicy: "Never", activeDeadlineSeconds: 3 }));
  await until(() => env.rt.calls.includes("startContainer once"), "start");
  await advance(env, 2);
  await until(() => podOf(env.api, "early")?.status?.phase === "Succeeded", "Succeeded");
  await k1.stop();
  await advance(env, 5);
  await env.newKubelet().start();
  await advance(env, 3);
  const st = podOf(env.api, "early")?.status;
  assert.equal(st?.phase, "Succeeded");
  assert.equal(st?.reason, undefined);
  assert.ok(!events(env.api).some((e) => e.reason === "DeadlineExceeded"));
});
