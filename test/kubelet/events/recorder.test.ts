import assert from "node:assert/strict";
import { test } from "node:test";
import type { Event, Pod } from "../../../src/api/index.js";
import { FakeClock } from "../../../src/clock/index.js";
import { EventRecorder, podRef } from "../../../src/kubelet/index.js";
import { startFakeApi } from "../fake-apiserver.js";

const pod: Pod = { metadata: { name: "web", namespace: "default", uid: "u-1", resourceVersion: "7" }, spec: { containers: [{ name: "app" }] } };

test("identical events are one object with a count and a new lastTimestamp; different ones are new objects", async (t) => {
  const { api, client } = await startFakeApi(t);
  const clock = new FakeClock(Date.parse("2026-12-03T10:00:00Z"));
  const r = new EventRecorder({ client, host: "n1", clock });
  r.event(podRef(pod, { name: "app" }), "Warning", "BackOff", "Back-off restarting failed container app in pod web_default(u-1)");
  clock.step(10_000);
  r.event(podRef(pod, { name: "app" }), "Warning", "BackOff", "Back-off restarting failed container app in pod web_default(u-1)");
  clock.step(20_000);
  r.event(podRef(pod, { name: "app" }), "Warning", "BackOff", "Back-off restarting failed container app in pod web_default(u-1)");
  r.event(podRef(pod, { name: "app", init: true }), "Normal", "Started", "Started container app");
  await r.flush();
  const evs = [...api.objects.entries()].filter(([k]) => k.includes("/events/")).map(([, v]) => v as Event);
  assert.equal(evs.length, 2);
  const b = evs.find((e) => e.reason === "BackOff");
  assert.equal(b?.count, 3);
  assert.equal(b?.firstTimestamp, "2026-12-03T10:00:00Z");
  assert.equal(b?.lastTimestamp, "2026-12-03T10:00:30Z");
  assert.match(b?.metadata.name ?? "", /^web\.[0-9a-f]+$/);
  assert.deepEqual(b?.involvedObject, { kind: "Pod", namespace: "default", name: "web", apiVersion: "v1", uid: "u-1", resourceVersion: "7", fieldPath: "spec.containers{app}" });
  assert.equal(b?.reportingComponent, "kubelet");
  assert.equal(b?.reportingInstance, "n1");
  assert.equal(evs.find((e) => e.reason === "Started")?.involvedObject.fieldPath, "spec.initContainers{app}");
  assert.equal(api.requests("PATCH", /\/events\//).length, 2);
});

test("a flood about one object is cut after the burst of 25", async (t) => {
  const { api, client } = await startFakeApi(t);
  const r = new EventRecorder({ client, host: "n1", clock: new FakeClock(0) });
  for (let i = 0; i < 40; i++) r.event(podRef(pod), "Normal", "Test", `message ${i}`);
  await r.flush();
  assert.equal(api.requests("POST", /\/events$/).length, 25);
});

test("events recorded just before a status patch reach the API server after it, and all of them arrive", async (t) => {
  const { api, client } = await startFakeApi(t);
  api.put("/api/v1/namespaces/default/pods", structuredClone(pod));
  const r = new EventRecorder({ client, host: "n1", clock: new FakeClock(0) });
  r.event(podRef(pod, { name: "app" }), "Normal", "Created", "Created container: app");
  r.event(podRef(pod, { name: "app" }), "Normal", "Started", "Started container app");
  await client.patch("/api/v1/namespaces/default/pods/web/status", { status: { phase: "Running" } }, "merge");
  // no flush: the queue goes out by itself
  for (let i = 0; i < 200 && api.requests("POST", /\/events$/).length < 2; i++) await new Promise((res) => setTimeout(res, 5));
  const order = api.log.filter((l) => l.method !== "GET").map((l) => `${l.method} ${l.path.split("/").slice(-2).join("/")}`);
  assert.deepEqual(order, ["PATCH web/status", "POST default/events", "POST default/events"]);
  assert.deepEqual(api.requests("POST", /\/events$/).map((l) => (l.body as Event).reason), ["Created", "Started"]);
});

test("the spam filter remembers the most recently used objects only: a pod long gone keeps no bucket", async (t) => {
  const { api, client } = await startFakeApi(t);
  const r = new EventRecorder({ client, host: "n1", clock: new FakeClock(0), cacheSize: 3 });
  const other = (i: number): Pod => ({ metadata: { name: `p${i}`, namespace: "default", uid: `u-p${i}` }, spec: { containers: [] } });
  const posts = (name: string): number => api.requests("POST", /\/events$/).filter((q) => (q.body as Event).involvedObject.name === name).length;
  for (let i = 0; i < 30; i++) r.event(podRef(pod), "Normal", "Test", `message ${i}`);
  // two other objects: web's exhausted bucket is still among the 3 remembered
  for (let i = 0; i < 2; i++) r.event(podRef(other(i)), "Normal", "Test", "hello");
  r.event(podRef(pod), "Normal", "Test", "still refused");
  await r.flush();
  assert.equal(posts("web"), 25);
  // three more push it out: web starts again with a full burst, as a new object does
  for (let i = 2; i < 5; i++) r.event(podRef(other(i)), "Normal", "Test", "hello");
  r.event(podRef(pod), "Normal", "Test", "allowed again");
  await r.flush();
  assert.equal(posts("web"), 26);
});
