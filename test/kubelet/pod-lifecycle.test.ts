/**
 * The whole stack in one process, as `podyard up` runs it: the API server (SQLite in memory), the
 * kubelet talking to it over HTTP, the real image manager pulling from a test registry, and the
 * OCI runtime (crun, or runc with PODYARD_TEST_RUNTIME=runc). The tutorial's shared-volume-pod runs
 * (its YAML with only the image changed), and a crashing pod is reported, then both are deleted and
 * nothing is left in the runtime. Needs root.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import type { Event, Pod } from "../../src/api/index.js";
import { CriImageService, KubeletImageManager } from "../../src/images/index.js";
import { Kubelet } from "../../src/kubelet/index.js";
import { openRuntimeFixture, RUNTIME, type RuntimeFixture } from "../runtime/runtime-fixture.js";
import { startRealKubeletStack, until } from "../helpers/real-kubelet-stack.js";
import { tutorialPodPath } from "../helpers/tutorial-pods.js";

const SEED = tutorialPodPath("shared-volume-pod.yaml");
const PODS = "/api/v1/namespaces/default/pods";

let fx: RuntimeFixture | undefined;
let skip = "";
before(async () => {
  if (process.getuid?.() !== 0) {
    skip = "needs root (containers)";
    return;
  }
  fx = await openRuntimeFixture();
});
after(async () => {
  await fx?.close();
});

test(`shared-volume-pod runs on ${RUNTIME}: container-b reads "Hello from A", the status and events are the kubelet's, deletion leaves nothing`, async (t) => {
  if (!fx) return t.skip(skip);
  const { client, rt, kubelet } = await startRealKubeletStack(t, fx);
  const pod = parse(await readFile(SEED, "utf8")) as Pod;
  const nodeName = `node-${process.pid}`;
  pod.spec.nodeName = nodeName;
  for (const c of pod.spec.containers) c.image = fx.image;
  await client.create(PODS, pod);
  const running = await until("Running", async () => {
    const p = await client.get<Pod>(`${PODS}/shared-volume-pod`);
    return p.status?.phase === "Running" && p.status.containerStatuses?.every((c) => c.ready) ? p : undefined;
  });
  const st = running.status;
  assert.deepEqual(st?.containerStatuses?.map((c) => c.name), ["container-a", "container-b"]);
  assert.match(st?.containerStatuses?.[0]?.containerID ?? "", /^podyard:\/\/[0-9a-f]{64}$/);
  assert.match(st?.podIP ?? "", /^10\.88\./);
  const b = await kubelet.lookupContainer("default", "shared-volume-pod", "container-b");
  assert.ok("containerId" in b, JSON.stringify(b));
  const msg = await until("the message", async () => {
    const r = await rt.execSync(b.containerId, ["cat", "/mnt/vol/message"], 10);
    return r.exitCode === 0 ? r.stdout.toString() : undefined;
  });
  assert.equal(msg, "Hello from A\n");
  const hosts = (await rt.execSync(b.containerId, ["cat", "/etc/hosts"], 10)).stdout.toString();
  assert.match(hosts, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
  assert.match(hosts, new RegExp(`${(st?.podIP ?? "").replaceAll(".", "\\.")}\tshared-volume-pod\n`));
  // events go out from the recorder's own queue, a moment after the status
  const reasons = await until("container-a's events", async () => {
    const rs = (await client.list<Event>("/api/v1/namespaces/default/events")).items.filter((e) => e.involvedObject.fieldPath === "spec.containers{container-a}").map((e) => e.reason);
    return rs.includes("Started") ? rs : undefined;
  });
  assert.deepEqual(reasons.filter((r) => r !== "Pulling" && r !== "Pulled"), ["Created", "Started"]);
  assert.ok(reasons.includes("Pulled"), reasons.join(","));

  await client.delete(`${PODS}/shared-volume-pod`, { gracePeriodSeconds: 2 });
  await until("the pod to go", async () => client.get(`${PODS}/shared-volume-pod`).then(() => undefined, () => true));
  await until("the sandbox to go", async () => ((await rt.listPodSandbox()).length === 0 ? true : undefined));
  const killing = await until("the Killing events", async () => {
    const ks = (await client.list<Event>("/api/v1/namespaces/default/events")).items.filter((e) => e.reason === "Killing").map((e) => e.message).sort();
    return ks.length >= 2 ? ks : undefined;
  });
  assert.deepEqual(killing, ["Stopping container container-a", "Stopping container container-b"]);
});

test(`a container that exits 3 is restarted with CrashLoopBackOff on ${RUNTIME}; a missing executable is RunContainerError`, async (t) => {
  if (!fx) return t.skip(skip);
  const { client } = await startRealKubeletStack(t, fx);
  const nodeName = `node-${process.pid}`;
  const mk = (name: string, command: string[]): Pod => ({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { nodeName, terminationGracePeriodSeconds: 2, containers: [{ name: "app", image: fx?.image ?? "", command }] } });
  await client.create(PODS, mk("crash", ["sh", "-c", "echo bye; exit 3"]));
  await client.create(PODS, mk("noexec", ["/no/such/binary"]));
  const crash = await until("CrashLoopBackOff", async () => {
    const p = await client.get<Pod>(`${PODS}/crash`);
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CrashLoopBackOff" ? p : undefined;
  });
  const cs = crash.status?.containerStatuses?.[0];
  assert.equal(cs?.lastState?.terminated?.exitCode, 3);
  assert.equal(cs?.lastState?.terminated?.reason, "Error");
  assert.ok((cs?.restartCount ?? 0) >= 1);
  assert.match(cs?.state?.waiting?.message ?? "", new RegExp(`^back-off 10s restarting failed container=app pod=crash_default\\(${crash.metadata.uid ?? ""}\\)$`));
  const noexec = await until("RunContainerError", async () => {
    const p = await client.get<Pod>(`${PODS}/noexec`);
    const w = p.status?.containerStatuses?.[0]?.state?.waiting;
    return w?.reason === "RunContainerError" || w?.reason === "CrashLoopBackOff" ? p : undefined;
  });
  const n = noexec.status?.containerStatuses?.[0];
  assert.equal(n?.lastState?.terminated?.reason ?? n?.state?.terminated?.reason ?? "StartError", "StartError");
  for (const name of ["crash", "noexec"]) await client.delete(`${PODS}/${name}`, { gracePeriodSeconds: 2 });
  await until("pods gone", async () => ((await client.list<Pod>(PODS)).items.length === 0 ? true : undefined));
});

test(`network-test-pod: container-b reaches container-a on localhost:8080; a new kubelet and runtime over the same home adopt the pod without restarting it (${RUNTIME})`, async (t) => {
  if (!fx) return t.skip(skip);
  const f = fx;
  const first = await startRealKubeletStack(t, f);
  const pod = parse(await readFile(tutorialPodPath("network-test-pod.yaml"), "utf8")) as Pod;
  pod.spec.nodeName = `node-${process.pid}`;
  for (const c of pod.spec.containers) c.image = f.image;
  await first.client.create(PODS, pod);
  const running = await until("Running", async () => {
    const p = await first.client.get<Pod>(`${PODS}/network-test-pod`);
    return p.status?.phase === "Running" && p.status.containerStatuses?.every((c) => c.ready) ? p : undefined;
  });
  const b = await first.kubelet.lookupContainer("default", "network-test-pod", "container-b");
  assert.ok("containerId" in b);
  const reply = await until("nc reply", async () => {
    const r = await first.rt.execSync(b.containerId, ["nc", "localhost", "8080"], 10);
    return r.stdout.toString() || undefined;
  });
  assert.equal(reply, "Hello from A\n");
  const ids = running.status?.containerStatuses?.map((c) => c.containerID);
  // the agent goes away (its containers keep running); a new runtime service and kubelet start over the same home
  await first.kubelet.stop();
  const rt2 = await f.newRuntime();
  const cri = new CriImageService({ images: f.node.env.imageService, contentDir: f.node.env.content.root, snapshotsDir: f.node.env.snapshotter.root });
  const k2 = new Kubelet({ client: first.client, nodeName: `node-${process.pid}`, runtime: rt2, imageService: cri, imageManager: new KubeletImageManager({ imageService: cri, stateDir: join(f.node.home, "kubelet") }), home: f.node.home, log: () => {} });
  t.after(() => k2.stop());
  await k2.start();
  await new Promise((r) => setTimeout(r, 3000));
  const after = await first.client.get<Pod>(`${PODS}/network-test-pod`);
  assert.equal(after.status?.phase, "Running");
  assert.deepEqual(after.status?.containerStatuses?.map((c) => c.containerID), ids, "the same containers");
  assert.deepEqual(after.status?.containerStatuses?.map((c) => c.restartCount), [0, 0]);
  assert.equal((await rt2.listContainers()).length, 2, "nothing duplicated");
  const again = await rt2.execSync(b.containerId, ["nc", "localhost", "8080"], 10);
  assert.equal(again.stdout.toString(), "Hello from A\n");
  await first.client.delete(`${PODS}/network-test-pod`, { gracePeriodSeconds: 2 });
  await until("the sandbox to go", async () => ((await rt2.listPodSandbox()).length === 0 ? true : undefined));
});

test(`probes on ${RUNTIME}: tcpSocket and httpGet readiness through the pod's netns, exec liveness; a static pod gets a mirror in the real API`, async (t) => {
  if (!fx) return t.skip(skip);
  const f = fx;
  const { mkdtemp, writeFile, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const manifests = await mkdtemp(join(tmpdir(), "kubelet-manifests-"));
  t.after(() => rm(manifests, { recursive: true, force: true }));
  const nodeName = `node-${process.pid}`;
  await writeFile(join(manifests, "static.yaml"), `apiVersion: v1\nkind: Pod\nmetadata:\n  name: stat\nspec:\n  containers:\n  - name: app\n    image: ${f.image}\n    imagePullPolicy: IfNotPresent\n    command: ["sleep", "3600"]\n`);
  const { client, rt } = await startRealKubeletStack(t, f, { podManifestPath: manifests });
  const server8080 = "while true; do printf 'HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok' | nc -l -p 8080 >/dev/null; done";
  await client.create(PODS, {
    apiVersion: "v1", kind: "Pod", metadata: { name: "probed", namespace: "default" },
    spec: {
      nodeName, terminationGracePeriodSeconds: 2,
      containers: [
        { name: "web", image: f.image, command: ["sh", "-c", server8080], readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 }, livenessProbe: { exec: { command: ["true"] }, periodSeconds: 1 } },
        { name: "tcp", image: f.image, command: ["sh", "-c", "exec nc -lk -p 9090 -e echo hi"], readinessProbe: { tcpSocket: { port: 9090 }, periodSeconds: 1 } },
      ],
    },
  } as Pod);
  const ready = await until("ready", async () => {
    const p = await client.get<Pod>(`${PODS}/probed`);
    return p.status?.conditions?.find((c) => c.type === "Ready")?.status === "True" ? p : undefined;
  }, 90_000).catch(async (err: unknown) => {
    const evs = await client.list<Event>("/api/v1/namespaces/default/events");
    throw new Error(`${String(err)}: ${evs.items.filter((e) => e.type === "Warning").map((e) => `${e.reason}: ${e.message} (x${e.count ?? 1})`).join("; ")}`);
  });
  assert.deepEqual(ready.status?.containerStatuses?.map((c) => `${c.name}:${c.ready}:${c.restartCount}`), ["tcp:true:0", "web:true:0"]);
  const mirror = await until("mirror pod Running", async () => {
    const p = await client.get<Pod>(`${PODS}/stat-${nodeName}`);
    return p.status?.phase === "Running" ? p : undefined;
  });
  assert.ok(mirror.metadata.annotations?.["kubernetes.io/config.mirror"]);
  await rm(join(manifests, "static.yaml"));
  await client.delete(`${PODS}/probed`, { gracePeriodSeconds: 2 });
  await until("all gone", async () => ((await rt.listPodSandbox()).length === 0 && (await client.list<Pod>(PODS)).items.length === 0 ? true : undefined), 90_000);
});

test(`a second delete with a shorter grace period cuts a long stop short (${RUNTIME})`, async (t) => {
  if (!fx) return t.skip(skip);
  const { client } = await startRealKubeletStack(t, fx);
  const nodeName = `node-${process.pid}`;
  await client.create(PODS, { apiVersion: "v1", kind: "Pod", metadata: { name: "stubborn", namespace: "default" }, spec: { nodeName, containers: [{ name: "app", image: fx.image, command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"] }] } } as Pod);
  await until("Running", async () => ((await client.get<Pod>(`${PODS}/stubborn`)).status?.phase === "Running" ? true : undefined));
  await client.delete(`${PODS}/stubborn`, { gracePeriodSeconds: 120 });
  await until("Killing", async () => ((await client.list<Event>("/api/v1/namespaces/default/events")).items.some((e) => e.reason === "Killing") ? true : undefined));
  const started = Date.now();
  await client.delete(`${PODS}/stubborn`, { gracePeriodSeconds: 2 });
  await until("the pod to go", async () => client.get(`${PODS}/stubborn`).then(() => undefined, () => true), 60_000);
  assert.ok(Date.now() - started < 30_000, `gone after ${Date.now() - started} ms`);
});

test(`churn: 10 pods with an emptyDir created and deleted leave no sandbox, mount, pod dir or log dir (${RUNTIME})`, async (t) => {
  if (!fx) return t.skip(skip);
  const f = fx;
  const { client, rt } = await startRealKubeletStack(t, f);
  const { readdir, readFile: rf } = await import("node:fs/promises");
  const nodeName = `node-${process.pid}`;
  const names = Array.from({ length: 10 }, (_, i) => `churn-${i}`);
  for (const name of names) {
    await client.create(PODS, {
      apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" },
      spec: { nodeName, terminationGracePeriodSeconds: 1, volumes: [{ name: "v", emptyDir: { medium: "Memory" } }], containers: [{ name: "app", image: f.image, command: ["sleep", "3600"], volumeMounts: [{ name: "v", mountPath: "/v" }] }] },
    } as Pod);
  }
  await until("all Running", async () => ((await client.list<Pod>(PODS)).items.filter((p) => p.status?.phase === "Running").length === names.length ? true : undefined), 120_000);
  for (const name of names) await client.delete(`${PODS}/${name}`, { gracePeriodSeconds: 1 });
  const ls = (p: string): Promise<string[]> => readdir(p).catch(() => []);
  // the kubelet removes a pod's directories just after its sandbox: wait for them too (a leak still times out)
  await until("all gone", async () => ((await client.list<Pod>(PODS)).items.length === 0 && (await rt.listPodSandbox()).length === 0
    && (await ls(join(f.node.home, "kubelet", "pods"))).length === 0 && (await ls(join(f.node.home, "log", "pods"))).length === 0 ? true : undefined), 120_000);
  assert.deepEqual(await ls(join(f.node.home, "kubelet", "pods")), []);
  assert.deepEqual(await ls(join(f.node.home, "log", "pods")), []);
  const mounts = (await rf("/proc/self/mountinfo", "utf8")).split("\n").filter((l) => l.includes(join(f.node.home, "kubelet")));
  assert.deepEqual(mounts, []);
});
