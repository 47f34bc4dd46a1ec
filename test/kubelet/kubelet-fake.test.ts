/**
 * The whole Kubelet against an in-memory API server and runtime, on a fake clock: pods run, crash
 * loops back off, deletions stop containers with grace and remove the object, finished pods keep
 * their containers, a second kubelet adopts what the first left running.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Lease, Node, Pod } from "../../src/api/index.js";
import { advance, events, PODS, podOf, settle, setup, spec, T0, until } from "./fake-env.js";

test("a two-container pod runs: node registered with its lease, status Running with the kubelet's fields, events in order", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  const node = env.api.get("/api/v1/nodes/n1") as Node;
  assert.equal(node.status?.conditions?.find((c) => c.type === "Ready")?.reason, "KubeletReady");
  assert.equal(node.metadata.labels?.["kubernetes.io/hostname"], "n1");
  assert.equal(node.status?.capacity?.pods, "110");
  assert.equal(node.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
  assert.equal((env.api.get("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1") as Lease).spec?.holderIdentity, "n1");

  const created = env.api.put(PODS, spec("web", [{ name: "b", image: "busybox" }, { name: "a", image: "busybox" }])) as Pod;
  await until(() => podOf(env.api, "web")?.status?.phase === "Running", "Running");
  const st = podOf(env.api, "web")?.status;
  assert.deepEqual(st?.containerStatuses?.map((c) => c.name), ["a", "b"], "sorted by name");
  const a = st?.containerStatuses?.[0];
  assert.match(a?.containerID ?? "", /^podyard:\/\/[0-9a-f]{64}$/);
  assert.deepEqual(a?.state, { running: { startedAt: "2026-12-03T10:00:00Z" } });
  assert.equal(a?.ready, true);
  assert.equal(a?.started, true);
  assert.equal(a?.imageID, "docker.io/library/busybox@sha256:0123");
  assert.equal(st?.podIP, "10.88.0.1");
  assert.deepEqual(st?.hostIPs, [{ ip: "127.0.0.1" }]);
  assert.equal(st?.qosClass, "BestEffort");
  assert.equal(st?.startTime, "2026-12-03T10:00:00Z");
  assert.deepEqual(st?.conditions?.map((c) => `${c.type}=${c.status}`), ["PodReadyToStartContainers=True", "Initialized=True", "Ready=True", "ContainersReady=True", "PodScheduled=True"]);
  const patch = env.api.requests("PATCH", /\/pods\/web\/status$/)[0];
  assert.equal(patch?.contentType, "application/merge-patch+json");
  await until(() => events(env.api).length >= 6, "events");
  const evs = events(env.api).filter((e) => e.involvedObject.fieldPath === "spec.containers{b}");
  assert.deepEqual(evs.map((e) => `${e.reason}: ${e.message}`), ['Pulled: Container image "busybox" already present on machine', "Created: Created container: b", "Started: Started container b"]);
  assert.equal(evs[0]?.source?.component, "kubelet");
  assert.equal(evs[0]?.source?.host, "n1");
  assert.equal(evs[0]?.involvedObject.uid, created.metadata.uid);
  assert.deepEqual(env.rt.calls.slice(0, 5), ["runPodSandbox web", "createContainer b", "startContainer b", "createContainer a", "startContainer a"], "spec order");
});

test("the next container is pulled and created while the one before it starts; starts and events keep the spec order", async (t) => {
  const env = await setup(t);
  let release = (): void => {};
  const held = new Promise<void>((r) => (release = r));
  env.rt.startGate = (name) => (name === "b" ? held : Promise.resolve());
  await env.newKubelet().start();
  try {
    env.api.put(PODS, spec("pipe", [{ name: "b", image: "busybox" }, { name: "a", image: "busybox" }, { name: "c", image: "busybox" }]));
    await until(() => env.rt.calls.includes("createContainer a"), "a created while b starts");
    assert.ok(!env.rt.calls.includes("startContainer a"), "a waits for b's start");
    assert.ok(!env.rt.calls.includes("createContainer c"), "only the next container is prepared ahead");
    await until(() => events(env.api).length >= 2, "b's first events");
    await settle(env);
    assert.deepEqual(events(env.api).map((e) => e.reason), ["Pulled", "Created"], "a's events wait for b's");
  } finally {
    release(); // else the kubelet's stop at the end would wait on b's start
  }
  await until(() => podOf(env.api, "pipe")?.status?.phase === "Running", "Running");
  assert.deepEqual(env.rt.calls.filter((c) => /^(create|start)Container/.test(c)),
    ["createContainer b", "startContainer b", "createContainer a", "startContainer a", "createContainer c", "startContainer c"]);
  await until(() => events(env.api).length >= 9, "events");
  assert.deepEqual(events(env.api).map((e) => `${e.reason} ${/\{(\w+)\}/.exec(e.involvedObject.fieldPath ?? "")?.[1] ?? ""}`),
    ["Pulled b", "Created b", "Started b", "Pulled a", "Created a", "Started a", "Pulled c", "Created c", "Started c"]);
});

test("a crashing container restarts at once, then after 10, 20, 40 s (next 80 s), with CrashLoopBackOff and an aggregated BackOff event", async (t) => {
  const env = await setup(t);
  const starts: number[] = [];
  env.rt.script = (name) => {
    if (name === "app") starts.push(env.clock.now());
    return name === "app" ? { exitCode: 1 } : {};
  };
  await env.newKubelet().start();
  const created = env.api.put(PODS, spec("crash", [{ name: "app", image: "busybox" }])) as Pod;
  await until(() => starts.length === 1, "first start");
  await settle(env);
  await advance(env, 80);
  const deltas = starts.slice(1).map((s, i) => s - (starts[i] ?? 0));
  assert.deepEqual(deltas.slice(1), [10_000, 20_000, 40_000], `restarts at ${deltas.join(",")}`);
  assert.equal(deltas[0], 1000, "the first restart comes with the next relist");
  const st = podOf(env.api, "crash")?.status;
  const cs = st?.containerStatuses?.[0];
  assert.equal(cs?.state?.waiting?.reason, "CrashLoopBackOff");
  assert.equal(cs?.state?.waiting?.message, `back-off 1m20s restarting failed container=app pod=crash_default(${created.metadata.uid ?? ""})`);
  assert.equal(cs?.lastState?.terminated?.exitCode, 1);
  assert.equal(cs?.lastState?.terminated?.reason, "Error");
  assert.equal(cs?.restartCount, 4);
  assert.equal(st?.phase, "Running");
  const backoff = events(env.api).filter((e) => e.reason === "BackOff");
  assert.equal(backoff.length, 1, "one event, counted");
  assert.equal(backoff[0]?.message, `Back-off restarting failed container app in pod crash_default(${created.metadata.uid ?? ""})`);
  assert.ok((backoff[0]?.count ?? 0) >= 3, `count ${backoff[0]?.count}`);
  assert.equal(backoff[0]?.type, "Warning");
});

test("deleting a pod stops its containers with the grace period, then the kubelet removes the object and the sandbox", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  const created = env.api.put(PODS, spec("del", [{ name: "a", image: "busybox" }], { terminationGracePeriodSeconds: 30 })) as Pod;
  await until(() => podOf(env.api, "del")?.status?.phase === "Running", "Running");
  await env.client.delete(`${PODS}/del`, { gracePeriodSeconds: 20 });
  await until(() => !podOf(env.api, "del"), "object removed");
  await until(() => env.rt.boxes.size === 0, "sandbox removed");
  const calls = env.rt.calls.filter((c) => /^(stop|remove)/.test(c));
  assert.deepEqual(calls.slice(0, 2), ["stopContainer a 20", "stopPodSandbox del"]);
  const del = env.api.requests("DELETE", /\/pods\/del$/).at(-1);
  assert.deepEqual(del?.body, { apiVersion: "v1", kind: "DeleteOptions", gracePeriodSeconds: 0, preconditions: { uid: created.metadata.uid } });
  // events go out from the recorder's own queue, a moment after the step that recorded them
  await until(() => events(env.api).some((e) => e.reason === "Killing"), "Killing event");
  const killing = events(env.api).find((e) => e.reason === "Killing");
  assert.equal(killing?.message, "Stopping container a");
  const lastStatus = env.api.requests("PATCH", /\/pods\/del\/status$/).at(-1)?.body as { status: Pod["status"] };
  assert.equal(lastStatus.status?.phase, "Failed", "exit 143 under Always ends Failed");
});

test("a Never pod that exits 0 is Succeeded and keeps its container until deleted", async (t) => {
  const env = await setup(t);
  env.rt.script = () => ({ exitCode: 0 });
  await env.newKubelet().start();
  env.api.put(PODS, spec("job", [{ name: "once", image: "busybox" }], { restartPolicy: "Never" }));
  await until(() => env.rt.calls.includes("startContainer once"), "start");
  await advance(env, 3);
  await until(() => podOf(env.api, "job")?.status?.phase === "Succeeded", "Succeeded");
  const st = podOf(env.api, "job")?.status;
  assert.equal(st?.containerStatuses?.[0]?.state?.terminated?.reason, "Completed");
  assert.equal(st?.conditions?.find((c) => c.type === "Ready")?.reason, "PodCompleted");
  assert.equal(st?.conditions?.find((c) => c.type === "PodReadyToStartContainers")?.status, "False");
  await advance(env, 3);
  assert.equal(env.rt.calls.filter((c) => c === "startContainer once").length, 1, "never restarted");
  assert.equal(env.rt.ctrs.size, 1, "container kept");
  await env.client.delete(`${PODS}/job`, { gracePeriodSeconds: 30 });
  await until(() => !podOf(env.api, "job") && env.rt.ctrs.size === 0, "removed");
});

test("init containers run one at a time, in order, before the app container", async (t) => {
  const env = await setup(t);
  env.rt.script = (name) => (name.startsWith("init") ? { exitCode: 0 } : {});
  await env.newKubelet().start();
  const inits: Pod = { ...spec("inits", []), spec: { nodeName: "n1", initContainers: [{ name: "init1", image: "busybox" }, { name: "init2", image: "busybox" }], containers: [{ name: "app", image: "busybox" }] } };
  env.api.put(PODS, inits);
  await until(() => env.rt.calls.includes("startContainer init1"), "init1");
  const first = podOf(env.api, "inits")?.status;
  await advance(env, 4);
  await until(() => podOf(env.api, "inits")?.status?.phase === "Running", "Running");
  assert.deepEqual(env.rt.calls.filter((c) => c.startsWith("startContainer")), ["startContainer init1", "startContainer init2", "startContainer app"]);
  assert.ok(first?.containerStatuses?.[0]?.state?.waiting?.reason === "PodInitializing" || first === undefined || first.phase === "Pending");
  const st = podOf(env.api, "inits")?.status;
  assert.deepEqual(st?.initContainerStatuses?.map((c) => `${c.name}:${c.state?.terminated?.reason ?? "?"}:${c.ready}`), ["init1:Completed:true", "init2:Completed:true"]);
});

test("a new kubelet adopts the running containers of the old one: nothing is started again", async (t) => {
  const env = await setup(t);
  const k1 = env.newKubelet();
  await k1.start();
  env.api.put(PODS, spec("keep", [{ name: "a", image: "busybox" }]));
  await until(() => podOf(env.api, "keep")?.status?.phase === "Running", "Running");
  await k1.stop();
  const before = env.rt.calls.length;
  const k2 = env.newKubelet();
  await k2.start();
  await advance(env, 5);
  assert.deepEqual(env.rt.calls.slice(before), [], "no runtime changes");
  const st = podOf(env.api, "keep")?.status;
  assert.equal(st?.phase, "Running");
  assert.equal(st?.containerStatuses?.[0]?.restartCount, 0);
  const lookup = await k2.lookupContainer("default", "keep", "a");
  assert.ok("containerId" in lookup && lookup.running && lookup.logPath === "/logs/a/0.log");
  assert.deepEqual(await k2.lookupContainer("default", "keep", "ghost"), { error: { code: 400, reason: "BadRequest", message: "container ghost is not valid for pod keep" } });
});

test("a start error shows RunContainerError with the runtime's message and a Failed event", async (t) => {
  const env = await setup(t);
  env.rt.script = () => ({ startError: 'exec: "nope": executable file not found in $PATH' });
  await env.newKubelet().start();
  env.api.put(PODS, spec("bad", [{ name: "a", image: "busybox", command: ["nope"] }]));
  await until(() => podOf(env.api, "bad")?.status?.containerStatuses?.[0]?.state?.waiting?.reason === "RunContainerError", "RunContainerError");
  const cs = podOf(env.api, "bad")?.status?.containerStatuses?.[0];
  assert.equal(cs?.state?.waiting?.message, 'exec: "nope": executable file not found in $PATH');
  assert.equal(cs?.lastState?.terminated?.reason, "StartError");
  assert.equal(cs?.lastState?.terminated?.exitCode, 128);
  await until(() => events(env.api).some((e) => e.reason === "Failed"), "Failed event");
  assert.equal(events(env.api).find((e) => e.reason === "Failed")?.message, 'Error: exec: "nope": executable file not found in $PATH');
});

test("a force-deleted pod (gone from the API at once) still has its containers stopped with grace, and its sandbox removed", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  env.api.put(PODS, spec("force", [{ name: "a", image: "busybox" }], { terminationGracePeriodSeconds: 5 }));
  await until(() => podOf(env.api, "force")?.status?.phase === "Running", "Running");
  await env.client.delete(`${PODS}/force`, { gracePeriodSeconds: 0 });
  await until(() => env.rt.boxes.size === 0, "sandbox removed");
  assert.ok(env.rt.calls.includes("stopContainer a 5"), env.rt.calls.join(","));
});

test("stopAndRemoveAllPods (podyard down) stops and removes every sandbox but keeps the API's pods", async (t) => {
  const env = await setup(t);
  const k = env.newKubelet();
  await k.start();
  env.api.put(PODS, spec("p1", [{ name: "a", image: "busybox" }]));
  env.api.put(PODS, spec("p2", [{ name: "a", image: "busybox" }]));
  await until(() => podOf(env.api, "p1")?.status?.phase === "Running" && podOf(env.api, "p2")?.status?.phase === "Running", "Running");
  await k.stopAndRemoveAllPods();
  assert.equal(env.rt.boxes.size, 0);
  assert.equal(env.rt.ctrs.size, 0);
  assert.ok(podOf(env.api, "p1") && podOf(env.api, "p2"));
  // the next start runs them again
  await env.newKubelet().start();
  await until(() => env.rt.boxes.size === 2, "sandboxes again");
});

test("an image that cannot be pulled: waiting ErrImagePull with the registry's message, Failed events, a warning for a missing pull secret", async (t) => {
  const env = await setup(t);
  env.images.fail["private/app"] = { reason: "ErrImagePull", message: "failed to pull and unpack image \"docker.io/private/app:latest\": unauthorized" };
  await env.newKubelet().start();
  env.api.put(PODS, spec("pull", [{ name: "app", image: "private/app" }], { imagePullSecrets: [{ name: "regcred" }] }));
  await until(() => podOf(env.api, "pull")?.status?.containerStatuses?.[0]?.state?.waiting?.reason === "ErrImagePull", "ErrImagePull");
  const cs = podOf(env.api, "pull")?.status?.containerStatuses?.[0];
  assert.equal(cs?.state?.waiting?.message, "failed to pull and unpack image \"docker.io/private/app:latest\": unauthorized");
  assert.equal(podOf(env.api, "pull")?.status?.phase, "Pending");
  await until(() => events(env.api).filter((e) => e.reason === "Failed").length === 2, "two Failed events");
  assert.deepEqual(events(env.api).filter((e) => e.reason === "Failed").map((e) => e.message).sort(), [
    "Error: ErrImagePull", "Failed to pull image \"private/app\": failed to pull and unpack image \"docker.io/private/app:latest\": unauthorized",
  ]);
  const warn = events(env.api).find((e) => e.reason === "FailedToRetrieveImagePullSecret");
  assert.equal(warn?.message, "Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.");
  assert.equal(env.rt.calls.filter((c) => c.startsWith("createContainer")).length, 0);
  // tried again when the relist sees the new sandbox (1 s), then 10 s after that failure
  const times: number[] = [];
  const ensure = env.images.ensureImageExists.bind(env.images);
  env.images.ensureImageExists = (req) => {
    times.push(env.clock.now() - T0);
    return ensure(req);
  };
  await settle(env);
  await advance(env, 12);
  assert.deepEqual(times, [1000, 11000]);
});

test("a sidecar (init container with restartPolicy Always) starts first, keeps running past the next init container, and is restarted when it exits", async (t) => {
  const env = await setup(t);
  env.rt.script = (name) => (name === "init2" ? { exitCode: 0 } : {});
  await env.newKubelet().start();
  const pod: Pod = { ...spec("side", []), spec: { nodeName: "n1", initContainers: [{ name: "proxy", image: "busybox", restartPolicy: "Always" }, { name: "init2", image: "busybox" }], containers: [{ name: "app", image: "busybox" }] } };
  env.api.put(PODS, pod);
  await until(() => env.rt.calls.includes("startContainer proxy"), "sidecar");
  await settle(env);
  await advance(env, 3);
  await until(() => podOf(env.api, "side")?.status?.phase === "Running", "Running");
  assert.deepEqual(env.rt.calls.filter((c) => c.startsWith("startContainer")), ["startContainer proxy", "startContainer init2", "startContainer app"]);
  const st = podOf(env.api, "side")?.status;
  assert.deepEqual(st?.initContainerStatuses?.map((c) => `${c.name}:${Object.keys(c.state ?? {})[0] ?? ""}:${c.ready}`), ["proxy:running:true", "init2:terminated:true"]);
  env.rt.exitNow("proxy", 1);
  await advance(env, 2);
  assert.equal(env.rt.calls.filter((c) => c === "startContainer proxy").length, 2, "sidecar restarted");
  assert.equal(env.rt.calls.filter((c) => c === "startContainer init2").length, 1, "completed init container not run again");
});

test("a changed container spec (a new image) kills the running container with 'definition changed' and starts the new one", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  env.api.put(PODS, spec("upd", [{ name: "app", image: "busybox:1" }]));
  await until(() => podOf(env.api, "upd")?.status?.phase === "Running", "Running");
  const cur = podOf(env.api, "upd") as Pod;
  await env.client.update(`${PODS}/upd`, { ...cur, spec: { ...cur.spec, containers: [{ name: "app", image: "busybox:2" }] } });
  await until(() => env.rt.calls.filter((c) => c === "startContainer app").length === 2, "restart");
  await until(() => events(env.api).some((e) => e.reason === "Killing"), "Killing");
  assert.equal(events(env.api).find((e) => e.reason === "Killing")?.message, "Container app definition changed, will be restarted");
  assert.deepEqual(env.images.pulls, ["busybox:1", "busybox:2"]);
  await until(() => podOf(env.api, "upd")?.status?.containerStatuses?.[0]?.restartCount === 1, "restartCount 1");
});

test("with the real container-config and volumes: a hostPath of the wrong type is FailedMount, a missing ConfigMap is CreateContainerConfigError", async (t) => {
  const env = await setup(t);
  await env.newKubelet({ realHelpers: true }).start();
  env.api.put(PODS, spec("mnt", [{ name: "app", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] }], { volumes: [{ name: "data", hostPath: { path: "/etc/hostname", type: "Directory" } }] }));
  env.api.put(PODS, spec("cfg", [{ name: "app", image: "busybox", env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "x" } } }] }]));
  await until(() => events(env.api).some((e) => e.reason === "FailedMount"), "FailedMount");
  assert.equal(events(env.api).find((e) => e.reason === "FailedMount")?.message, 'MountVolume.SetUp failed for volume "data" : hostPath type check failed: /etc/hostname is not a directory');
  assert.equal(podOf(env.api, "mnt")?.status?.containerStatuses?.[0]?.state?.waiting?.reason, "ContainerCreating");
  await until(() => podOf(env.api, "cfg")?.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError", "CreateContainerConfigError");
  assert.equal(podOf(env.api, "cfg")?.status?.containerStatuses?.[0]?.state?.waiting?.message, 'configmap "cfg" not found');
  await until(() => events(env.api).some((e) => e.reason === "Failed" && e.message === 'Error: configmap "cfg" not found'), "Failed event");
  assert.ok(!env.rt.calls.some((c) => c.startsWith("createContainer")), "nothing created");
});

test("lifecycle hooks: a failing postStart kills the container (PostStartHookError); preStop runs before the stop on delete", async (t) => {
  const env = await setup(t);
  env.rt.execResult = (cmd) => (cmd[0] === "bad-hook" ? { exitCode: 2, out: "hook broke" } : { exitCode: 0, out: "" });
  await env.newKubelet().start();
  env.api.put(PODS, spec("hooks", [
    { name: "post", image: "busybox", lifecycle: { postStart: { exec: { command: ["bad-hook"] } } } },
    { name: "pre", image: "busybox", lifecycle: { preStop: { exec: { command: ["drain"] } } } },
  ]));
  await until(() => podOf(env.api, "hooks")?.status?.containerStatuses?.find((c) => c.name === "post")?.state?.waiting?.reason === "PostStartHookError", "PostStartHookError");
  assert.equal(podOf(env.api, "hooks")?.status?.containerStatuses?.find((c) => c.name === "post")?.state?.waiting?.message, "command 'bad-hook' exited with 2: hook broke");
  await until(() => events(env.api).some((e) => e.reason === "FailedPostStartHook"), "FailedPostStartHook");
  assert.equal(events(env.api).find((e) => e.reason === "FailedPostStartHook")?.message, "PostStartHook failed");
  await env.client.delete(`${PODS}/hooks`, { gracePeriodSeconds: 10 });
  await until(() => !podOf(env.api, "hooks"), "gone");
  const i = env.rt.calls.indexOf("execSync pre drain");
  assert.ok(i >= 0 && env.rt.calls.indexOf("stopContainer pre 10") > i, env.rt.calls.join(", "));
});

test("a pod with a sidecar whose containers ignore SIGTERM stops within one grace period: the sidecar gets what is left after the app", async (t) => {
  const env = await setup(t);
  env.rt.ignoreSigterm = true;
  await env.newKubelet().start();
  const pod: Pod = { ...spec("sidegrace", []), spec: { nodeName: "n1", terminationGracePeriodSeconds: 30, initContainers: [{ name: "proxy", image: "busybox", restartPolicy: "Always" }], containers: [{ name: "app", image: "busybox" }] } };
  env.api.put(PODS, pod);
  await until(() => env.rt.calls.some((c) => c.startsWith("startContainer")), "sidecar started");
  await settle(env);
  await advance(env, 3);
  await until(() => podOf(env.api, "sidegrace")?.status?.phase === "Running", "Running");
  await env.client.delete(`${PODS}/sidegrace`);
  await until(() => env.rt.calls.includes("stopContainer app 30"), "app stop");
  const t0 = env.clock.now();
  let sidecarAt: number | undefined;
  let boxAt: number | undefined;
  for (let i = 0; i < 70 && boxAt === undefined; i++) {
    await advance(env, 1);
    if (sidecarAt === undefined && env.rt.calls.some((c) => c.startsWith("stopContainer proxy"))) sidecarAt = env.clock.now() - t0;
    if (env.rt.calls.includes("stopPodSandbox sidegrace")) boxAt = env.clock.now() - t0;
  }
  const stops = env.rt.calls.filter((c) => c.startsWith("stopContainer"));
  // the app takes its whole 30 s; the sidecar waited those 30 s, so the minimum of 2 s is all it gets
  assert.deepEqual(stops, ["stopContainer app 30", "stopContainer proxy 2"]);
  assert.equal(sidecarAt, 30_000);
  assert.equal(boxAt, 32_000, "the pod stops in its grace (plus the 2 s minimum), not in twice its grace");
});

test("a sidecar's stop timeout is the pod's grace less the time the regular containers took", async (t) => {
  const env = await setup(t);
  await env.newKubelet().start();
  const pod: Pod = { ...spec("sideleft", []), spec: { nodeName: "n1", terminationGracePeriodSeconds: 30, initContainers: [{ name: "a", image: "busybox", restartPolicy: "Always" }, { name: "b", image: "busybox", restartPolicy: "Always" }], containers: [{ name: "app", image: "busybox" }] } };
  env.api.put(PODS, pod);
  await until(() => env.rt.calls.some((c) => c.startsWith("startContainer")), "sidecar started");
  await settle(env);
  await advance(env, 3);
  await until(() => podOf(env.api, "sideleft")?.status?.phase === "Running", "Running");
  env.rt.ignoreSigterm = true;
  // the app stops 12 s after SIGTERM (its process exits on its own), the sidecars ignore it
  const stop = env.rt.stopContainer.bind(env.rt);
  env.rt.stopContainer = async (id, timeout) => {
    const name = [...env.rt.ctrs.values()].find((c) => c.id === id)?.config.metadata.name;
    if (name !== "app") return stop(id, timeout);
    env.rt.calls.push(`stopContainer app ${timeout}`);
    await env.clock.sleep(12_000);
    env.rt.exitNow("app", 143);
  };
  await env.client.delete(`${PODS}/sideleft`);
  await until(() => env.rt.calls.includes("stopContainer app 30"), "app stop");
  for (let i = 0; i < 40 && !env.rt.calls.includes("stopPodSandbox sideleft"); i++) await advance(env, 1);
  // sidecars stop last to first: b waits for the app (12 s), a waits for b (18 s more)
  assert.deepEqual(env.rt.calls.filter((c) => c.startsWith("stopContainer")), ["stopContainer app 30", "stopContainer b 18", "stopContainer a 2"]);
});

test("a sidecar's failing startupProbe: the Unhealthy event refers to spec.initContainers{side}", async (t) => {
  const env = await setup(t);
  env.rt.execResult = () => ({ exitCode: 1, out: "not up" });
  await env.newKubelet().start();
  const pod: Pod = { ...spec("sideprobe", []), spec: { nodeName: "n1", initContainers: [{ name: "side", image: "busybox", restartPolicy: "Always", startupProbe: { exec: { command: ["up"] }, periodSeconds: 1, failureThreshold: 30 } }], containers: [{ name: "app", image: "busybox" }] } };
  env.api.put(PODS, pod);
  await until(() => env.rt.calls.includes("startContainer side"), "sidecar started");
  for (let i = 0; i < 10 && !events(env.api).some((e) => e.reason === "Unhealthy"); i++) await advance(env, 1);
  await until(() => events(env.api).some((e) => e.reason === "Unhealthy"), "Unhealthy event");
  const ev = events(env.api).find((e) => e.reason === "Unhealthy");
  assert.equal(ev?.message, "Startup probe failed: not up");
  assert.equal(ev?.involvedObject.fieldPath, "spec.initContainers{side}");
});

test("after podyard down and up (a new kubelet over an empty runtime) finished pods keep their terminated container statuses", async (t) => {
  const env = await setup(t);
  env.rt.script = (name) => (name === "fail" ? { exitCode: 3 } : { exitCode: 0 });
  const k1 = env.newKubelet();
  await k1.start();
  env.api.put(PODS, spec("done", [{ name: "a", image: "busybox" }, { name: "b", image: "busybox" }], { restartPolicy: "Never" }));
  env.api.put(PODS, spec("broke", [{ name: "fail", image: "busybox" }, { name: "ok", image: "busybox" }], { restartPolicy: "Never" }));
  await until(() => env.rt.calls.filter((c) => c.startsWith("startContainer")).length === 4, "starts");
  await advance(env, 3);
  await until(() => podOf(env.api, "done")?.status?.phase === "Succeeded" && podOf(env.api, "broke")?.status?.phase === "Failed", "finished");
  await settle(env);
  const before = { done: podOf(env.api, "done")?.status, broke: podOf(env.api, "broke")?.status };
  assert.match(before.done?.containerStatuses?.[0]?.containerID ?? "", /^podyard:\/\//);
  assert.equal(before.broke?.containerStatuses?.[0]?.state?.terminated?.exitCode, 3);
  await k1.stopAndRemoveAllPods();
  assert.equal(env.rt.ctrs.size, 0);
  const starts = env.rt.calls.filter((c) => c.startsWith("startContainer")).length;
  await env.newKubelet().start();
  await advance(env, 5);
  assert.equal(env.rt.calls.filter((c) => c.startsWith("startContainer")).length, starts, "nothing started again");
  for (const name of ["done", "broke"] as const) {
    const st = podOf(env.api, name)?.status;
    assert.equal(st?.phase, before[name]?.phase);
    assert.deepEqual(st?.containerStatuses, before[name]?.containerStatuses, `${name}: statuses unchanged`);
  }
});
