import assert from "node:assert/strict";
import { test } from "node:test";
import { startKubelet } from "./fixture.js";

test("a request without a client certificate, or with one the client CA did not sign, gets 401", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const none = await k.get("/healthz", {});
  assert.equal(none.status, 401);
  assert.equal(JSON.parse(none.body).reason, "Unauthorized");
  const stranger = await k.get("/pods", { cert: k.pki.strangerCert, key: k.pki.strangerKey });
  assert.equal(stranger.status, 401);
});

test("the API server's client certificate reaches /healthz, /pods, /runningpods/ and /stats/summary", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const health = await k.get("/healthz");
  assert.deepEqual([health.status, health.body], [200, "ok"]);
  const pods = JSON.parse((await k.get("/pods")).body);
  assert.equal(pods.kind, "PodList");
  assert.deepEqual(pods.items.map((p: { metadata: { name: string } }) => p.metadata.name), ["web"]);
  const running = JSON.parse((await k.get("/runningpods/")).body);
  assert.deepEqual(running.items[0].spec.containers.map((c: { name: string }) => c.name), ["main", "side"]);
  assert.deepEqual(JSON.parse((await k.get("/stats/summary")).body).node, { nodeName: "node1" });
  const missing = await k.get("/nope");
  assert.equal(missing.status, 404);
});

test("exec without an upgrade is refused with a Status", async (t) => {
  const k = await startKubelet(t);
  if (!k) return;
  const r = await k.get("/exec/default/web/main?command=true&output=1");
  assert.equal(r.status, 400);
  assert.equal(JSON.parse(r.body).message, "Upgrade request required");
});
