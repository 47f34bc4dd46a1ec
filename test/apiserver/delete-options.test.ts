/**
 * DeleteOptions as kube-apiserver reads them: a body needs no kind/apiVersion, a non-empty body
 * is used alone (the query is not looked at), and without a body the query parameters count.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../src/clock/index.js";
import { call, pod, startServer } from "./server-helper.js";

const NS = "/api/v1/namespaces/default";

async function graceOf(url: string, name: string, query: string, body?: unknown): Promise<unknown> {
  await call(url, "POST", `${NS}/pods`, pod(name, { nodeName: "node1" }));
  const r = await call(url, "DELETE", `${NS}/pods/${name}${query}`, body);
  assert.equal(r.status, 200, r.text);
  return (r.body.metadata as Record<string, unknown>).deletionGracePeriodSeconds;
}

test("gracePeriodSeconds: from a body without kind, from the body alone when there is one, else from the query", async (t) => {
  const s = await startServer(t, { clock: new FakeClock(Date.parse("2026-12-03T10:00:00Z")) });
  assert.equal(await graceOf(s.url, "bare", "", { gracePeriodSeconds: 2 }), 2);
  assert.equal(await graceOf(s.url, "typed", "", { kind: "DeleteOptions", apiVersion: "meta.k8s.io/v1", gracePeriodSeconds: 3 }), 3);
  assert.equal(await graceOf(s.url, "both", "?gracePeriodSeconds=5", { gracePeriodSeconds: 2 }), 2);
  assert.equal(await graceOf(s.url, "query", "?gracePeriodSeconds=5"), 5);
  assert.equal(await graceOf(s.url, "none", ""), 30);
});

test("a body's dryRun is honoured; a bad query value or a body of another kind is a 400", async (t) => {
  const s = await startServer(t, { clock: new FakeClock(Date.parse("2026-12-03T10:00:00Z")) });
  await call(s.url, "POST", `${NS}/pods`, pod("keep", { nodeName: "node1" }));
  const dry = await call(s.url, "DELETE", `${NS}/pods/keep`, { dryRun: ["All"], gracePeriodSeconds: 0 });
  assert.equal(dry.status, 200, dry.text);
  const still = await call(s.url, "GET", `${NS}/pods/keep`);
  assert.equal(still.status, 200);
  assert.equal((still.body.metadata as Record<string, unknown>).deletionTimestamp, undefined);
  const badQuery = await call(s.url, "DELETE", `${NS}/pods/keep?gracePeriodSeconds=soon`);
  assert.equal(badQuery.status, 400);
  const badKind = await call(s.url, "DELETE", `${NS}/pods/keep`, { kind: "Pod", apiVersion: "v1" });
  assert.deepEqual([badKind.status, badKind.body.message], [400, "decoded object cannot be converted to DeleteOptions"]);
  assert.equal((await call(s.url, "GET", `${NS}/pods/keep`)).status, 200);
});
