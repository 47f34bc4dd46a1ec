/** Probes through the whole Kubelet on a fake clock and runtime: exec liveness restarts, readiness gates Ready. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Event, Pod } from "../../src/api/index.js";
import { FakeClock } from "../../src/clock/index.js";
import type { ImageService } from "../../src/images/index.js";
import { Kubelet, KubeClient } from "../../src/kubelet/index.js";
import { FakeApiServer } from "./fake-apiserver.js";
import { FakeImages, FakeRuntime, fakeHelpers } from "./fake-runtime.js";

const PODS = "/api/v1/namespaces/default/pods";
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 5));
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), `timed out waiting for ${what}`);
}

test("a failing liveness probe restarts the container after failureThreshold periods; readiness decides Ready", async (t) => {
  const api = new FakeApiServer();
  await api.start();
  const home = await mkdtemp(join(tmpdir(), "kubelet-probe-"));
  const clock = new FakeClock(Date.parse("2026-12-03T10:00:00Z"));
  const rt = new FakeRuntime(clock);
  const images = new FakeImages();
  const client = new KubeClient({ server: api.url });
  const k = new Kubelet({ client, nodeName: "n1", runtime: rt, imageService: images as unknown as ImageService, imageManager: images, home, clock, helpers: fakeHelpers, log: () => {} });
  t.after(async () => {
    await k.stop();
    client.close();
    await api.close();
    await rm(home, { recursive: true, force: true });
  });
  let healthy = true;
  let ready = false;
  const execAt: string[] = [];
  rt.execResult = (cmd) => {
    execAt.push(`${(clock.now() - Date.parse("2026-12-03T10:00:00Z")) / 1000} ${cmd.join(" ")}`);
    if (cmd[0] === "ready") return ready ? { exitCode: 0, out: "" } : { exitCode: 1, out: "not yet" };
    return healthy ? { exitCode: 0, out: "" } : { exitCode: 1, out: "dead" };
  };
  await k.start();
  const pod: Pod = {
    apiVersion: "v1", kind: "Pod", metadata: { name: "probed", namespace: "default" },
    spec: { nodeName: "n1", containers: [{ name: "app", image: "busybox", livenessProbe: { exec: { command: ["live"] }, periodSeconds: 10, failureThreshold: 3 }, readinessProbe: { exec: { command: ["ready"] }, periodSeconds: 5 } }] },
  };
  api.put(PODS, pod);
  const get = (): Pod | undefined => api.get(`${PODS}/probed`) as Pod | undefined;
  await until(() => get()?.status?.phase === "Running", "Running");
  await until(() => execAt.some((e) => e.endsWith("ready")), "a readiness probe");
  assert.equal(get()?.status?.containerStatuses?.[0]?.ready, false);
  assert.equal(get()?.status?.conditions?.find((c) => c.type === "ContainersReady")?.message, "containers with unready status: [app]");
  ready = true;
  const step = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      clock.step(1000);
      for (let j = 0; j < 6; j++) await tick();
    }
  };
  await step(5);
  await until(() => get()?.status?.containerStatuses?.[0]?.ready === true, "ready");
  assert.equal(get()?.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
  healthy = false;
  const startsBefore = rt.calls.filter((c) => c === "startContainer app").length;
  await step(31);
  const live = execAt.filter((e) => e.endsWith(" live")).map((e) => Number(e.split(" ")[0]));
  const fails = live.filter((s) => s > 5);
  assert.deepEqual(fails.slice(0, 3).map((s) => s - (fails[0] ?? 0)), [0, 10, 20], "three failures, a period apart");
  await until(() => rt.calls.filter((c) => c === "startContainer app").length === startsBefore + 1, "restart");
  const evs = [...api.objects.entries()].filter(([p]) => p.includes("/events/")).map(([, e]) => e as Event);
  const killing = evs.find((e) => e.reason === "Killing");
  assert.equal(killing?.message, "Container app failed liveness probe, will be restarted");
  const unhealthy = evs.find((e) => e.reason === "Unhealthy" && e.message?.startsWith("Liveness"));
  assert.equal(unhealthy?.message, "Liveness probe failed: dead");
  assert.ok((unhealthy?.count ?? 0) >= 3);
  assert.equal(unhealthy?.involvedObject.fieldPath, "spec.containers{app}");
  await until(() => get()?.status?.containerStatuses?.[0]?.restartCount === 1, "restartCount 1");
});
