import assert from "node:assert/strict";
import { request } from "node:http";
import { test } from "node:test";
import { FakeClock } from "../../src/clock/index.js";
import { USER_AGENT as SCHEDULER_AGENT } from "../../src/scheduler/api-client.js";
import { call, pod, startServer, watch } from "./server-helper.js";

const START = Date.parse("2026-12-03T10:00:00Z");
const NS = "/api/v1/namespaces/default";

test("create fills uid, creationTimestamp, generation, resourceVersion and the defaults; get returns it", async (t) => {
  const s = await startServer(t, { clock: new FakeClock(START) });
  const r = await call(s.url, "POST", `${NS}/pods`, pod("web"));
  assert.equal(r.status, 201);
  const meta = r.body.metadata as Record<string, unknown>;
  assert.match(String(meta.uid), /^[0-9a-f-]{36}$/);
  assert.equal(meta.creationTimestamp, "2026-12-03T10:00:00Z");
  assert.equal(meta.generation, 1);
  assert.match(String(meta.resourceVersion), /^\d+$/);
  assert.equal(meta.namespace, "default");
  const spec = r.body.spec as Record<string, unknown>;
  assert.equal(spec.restartPolicy, "Always");
  assert.equal((r.body.status as Record<string, unknown>).phase, "Pending");
  const g = await call(s.url, "GET", `${NS}/pods/web`);
  assert.equal(g.status, 200);
  assert.equal(g.body.kind, "Pod");
  assert.equal(g.body.apiVersion, "v1");
  assert.equal((g.body.metadata as Record<string, unknown>).resourceVersion, meta.resourceVersion);
  const again = await call(s.url, "POST", `${NS}/pods`, pod("web"));
  assert.equal(again.status, 409);
  assert.deepEqual([again.body.reason, again.body.message], ["AlreadyExists", 'pods "web" already exists']);
  const missing = await call(s.url, "GET", `${NS}/pods/nope`);
  assert.deepEqual([missing.status, missing.body.reason, missing.body.message], [404, "NotFound", 'pods "nope" not found']);
});

test("generateName makes a unique name; resourceVersions rise as decimal integers", async (t) => {
  const s = await startServer(t);
  const a = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { generateName: "cfg-" }, data: { k: "v" } });
  const b = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { generateName: "cfg-" }, data: { k: "v" } });
  const na = String((a.body.metadata as Record<string, unknown>).name), nb = String((b.body.metadata as Record<string, unknown>).name);
  assert.match(na, /^cfg-[a-z0-9]{5}$/);
  assert.notEqual(na, nb);
  assert.ok(Number((b.body.metadata as Record<string, unknown>).resourceVersion) > Number((a.body.metadata as Record<string, unknown>).resourceVersion));
});

test("list is sorted by name, filters by label and field selectors, and pages with limit/continue", async (t) => {
  const s = await startServer(t);
  for (const n of ["d", "b", "a", "e", "c"]) await call(s.url, "POST", `${NS}/pods`, pod(n, n === "b" || n === "d" ? { nodeName: "node1" } : {}));
  const all = await call(s.url, "GET", `${NS}/pods`);
  assert.equal(all.body.kind, "PodList");
  const names = (l: Record<string, unknown>): string[] => (l.items as { metadata: { name: string } }[]).map((i) => i.metadata.name);
  assert.deepEqual(names(all.body), ["a", "b", "c", "d", "e"]);
  assert.deepEqual(names((await call(s.url, "GET", `${NS}/pods?labelSelector=app%20in%20(a,c)`)).body), ["a", "c"]);
  assert.deepEqual(names((await call(s.url, "GET", `${NS}/pods?labelSelector=app!=a`)).body), ["b", "c", "d", "e"]);
  assert.deepEqual(names((await call(s.url, "GET", `${NS}/pods?fieldSelector=spec.nodeName%3Dnode1`)).body), ["b", "d"]);
  assert.deepEqual(names((await call(s.url, "GET", `/api/v1/pods?fieldSelector=metadata.name%3Dc,metadata.namespace%3Ddefault`)).body), ["c"]);
  const bad = await call(s.url, "GET", `${NS}/pods?fieldSelector=spec.image%3Dx`);
  assert.equal(bad.status, 400);
  // Only the reason: kubectl prefixes its own "Unable to find ... that match label selector".
  assert.equal(bad.body.message, "field label not supported: spec.image");
  const badEvents = await call(s.url, "GET", `${NS}/events?fieldSelector=foo%3Dbar`);
  assert.deepEqual([badEvents.status, badEvents.body.message], [400, "field label not supported: foo"]);
  const p1 = await call(s.url, "GET", `${NS}/pods?limit=2`);
  assert.deepEqual(names(p1.body), ["a", "b"]);
  const m1 = p1.body.metadata as Record<string, unknown>;
  assert.equal(m1.remainingItemCount, 3);
  // A write between pages does not show up: the pages read one revision.
  await call(s.url, "POST", `${NS}/pods`, pod("bb"));
  const p2 = await call(s.url, "GET", `${NS}/pods?limit=2&continue=${encodeURIComponent(String(m1.continue))}`);
  assert.deepEqual(names(p2.body), ["c", "d"]);
  const p3 = await call(s.url, "GET", `${NS}/pods?limit=2&continue=${encodeURIComponent(String((p2.body.metadata as Record<string, unknown>).continue))}`);
  assert.deepEqual(names(p3.body), ["e"]);
  assert.equal((p3.body.metadata as Record<string, unknown>).continue, undefined);
  // Paging with a selector still fills pages.
  const sel = await call(s.url, "GET", `${NS}/pods?limit=1&fieldSelector=spec.nodeName%3Dnode1`);
  assert.deepEqual(names(sel.body), ["b"]);
  const sel2 = await call(s.url, "GET", `${NS}/pods?limit=1&fieldSelector=spec.nodeName%3Dnode1&continue=${encodeURIComponent(String((sel.body.metadata as Record<string, unknown>).continue))}`);
  assert.deepEqual(names(sel2.body), ["d"]);
});

test("update with a stale resourceVersion gets kube-apiserver's Conflict; an unconditional one succeeds", async (t) => {
  const s = await startServer(t);
  const created = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: "cfg" }, data: { a: "1" } });
  const rv = (created.body.metadata as Record<string, unknown>).resourceVersion;
  const u1 = await call(s.url, "PUT", `${NS}/configmaps/cfg`, { metadata: { name: "cfg", resourceVersion: rv }, data: { a: "2" } });
  assert.equal(u1.status, 200);
  assert.notEqual((u1.body.metadata as Record<string, unknown>).resourceVersion, rv);
  const stale = await call(s.url, "PUT", `${NS}/configmaps/cfg`, { metadata: { name: "cfg", resourceVersion: rv }, data: { a: "3" } });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, "Conflict");
  assert.equal(stale.body.message, 'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again');
  const free = await call(s.url, "PUT", `${NS}/configmaps/cfg`, { metadata: { name: "cfg" }, data: { a: "4" } });
  assert.deepEqual(free.body.data, { a: "4" });
  assert.equal((free.body.metadata as Record<string, unknown>).uid, (created.body.metadata as Record<string, unknown>).uid);
  const wrongName = await call(s.url, "PUT", `${NS}/configmaps/cfg`, { metadata: { name: "other" }, data: {} });
  assert.equal(wrongName.status, 400);
  assert.equal(wrongName.body.message, "the name of the object (other) does not match the name on the URL (cfg)");
});

test("patch: merge patch, strategic merge with $setElementOrder (never stored), JSON patch", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/pods`, { ...pod("web"), spec: { containers: [{ name: "nginx", image: "nginx:1.27" }, { name: "sidecar", image: "busybox:1.36" }] } });
  const merge = await call(s.url, "PATCH", `${NS}/pods/web`, { metadata: { labels: { tier: "front" } } }, { "content-type": "application/merge-patch+json" });
  assert.equal(merge.status, 200);
  assert.deepEqual((merge.body.metadata as Record<string, unknown>).labels, { app: "web", tier: "front" });
  const smp = await call(s.url, "PATCH", `${NS}/pods/web`, {
    spec: { "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }], containers: [{ name: "nginx", image: "nginx:1.28" }] },
  }, { "content-type": "application/strategic-merge-patch+json" });
  assert.equal(smp.status, 200);
  const containers = (smp.body.spec as { containers: { name: string; image: string }[] }).containers;
  assert.deepEqual(containers.map((c) => [c.name, c.image]), [["nginx", "nginx:1.28"], ["sidecar", "busybox:1.36"]]);
  assert.ok(!JSON.stringify(smp.body).includes("$setElementOrder"));
  const jp = await call(s.url, "PATCH", `${NS}/pods/web`, [{ op: "replace", path: "/metadata/labels/tier", value: "back" }], { "content-type": "application/json-patch+json" });
  assert.deepEqual((jp.body.metadata as Record<string, unknown>).labels, { app: "web", tier: "back" });
  const wrongType = await call(s.url, "PATCH", `${NS}/pods/web`, {}, { "content-type": "text/plain" });
  assert.equal(wrongType.status, 415);
  assert.equal(wrongType.body.reason, "UnsupportedMediaType");
  const gone = await call(s.url, "PATCH", `${NS}/pods/nope`, {}, { "content-type": "application/merge-patch+json" });
  assert.equal(gone.status, 404);
});

test("status subresource changes only status; the main resource keeps it", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/pods`, pod("web", { nodeName: "node1" }));
  const st = await call(s.url, "PATCH", `${NS}/pods/web/status`, { status: { phase: "Running", podIP: "10.88.0.5" }, spec: { nodeName: "x" } }, { "content-type": "application/merge-patch+json" });
  assert.equal(st.status, 200);
  assert.equal((st.body.status as Record<string, unknown>).phase, "Running");
  assert.equal((st.body.spec as Record<string, unknown>).nodeName, "node1");
  const main = await call(s.url, "PATCH", `${NS}/pods/web`, { status: { phase: "Failed" } }, { "content-type": "application/merge-patch+json" });
  assert.equal((main.body.status as Record<string, unknown>).phase, "Running");
  const list = await call(s.url, "GET", `${NS}/pods?fieldSelector=status.phase%3DRunning`);
  assert.equal((list.body.items as unknown[]).length, 1);
});

test("graceful delete of a bound pod: deletionTimestamp now+grace, later deletes only shorten it, grace 0 removes it", async (t) => {
  const clock = new FakeClock(START);
  const s = await startServer(t, { clock });
  await call(s.url, "POST", `${NS}/pods`, pod("web", { nodeName: "node1" }));
  const w = await watch(s.url, `${NS}/pods?watch=true&resourceVersion=${s.storage.currentRevision()}`);
  t.after(() => w.close());
  const d1 = await call(s.url, "DELETE", `${NS}/pods/web`, { propagationPolicy: "Background" });
  assert.equal(d1.status, 200);
  const m1 = d1.body.metadata as Record<string, unknown>;
  assert.equal(m1.deletionTimestamp, "2026-12-03T10:00:30Z");
  assert.equal(m1.deletionGracePeriodSeconds, 30);
  clock.step(5000);
  const longer = await call(s.url, "DELETE", `${NS}/pods/web?gracePeriodSeconds=60`);
  assert.equal((longer.body.metadata as Record<string, unknown>).deletionTimestamp, "2026-12-03T10:00:30Z");
  const shorter = await call(s.url, "DELETE", `${NS}/pods/web`, { gracePeriodSeconds: 10 });
  assert.equal((shorter.body.metadata as Record<string, unknown>).deletionTimestamp, "2026-12-03T10:00:10Z");
  assert.equal((shorter.body.metadata as Record<string, unknown>).deletionGracePeriodSeconds, 10);
  assert.equal((await call(s.url, "GET", `${NS}/pods/web`)).status, 200);
  const uid = String(m1.uid);
  const wrongUid = await call(s.url, "DELETE", `${NS}/pods/web`, { gracePeriodSeconds: 0, preconditions: { uid: "other" } });
  assert.equal(wrongUid.status, 409);
  assert.equal(wrongUid.body.message, `Operation cannot be fulfilled on pods "web": Precondition failed: UID in precondition: other, UID in object meta: ${uid}`);
  const final = await call(s.url, "DELETE", `${NS}/pods/web`, { gracePeriodSeconds: 0, preconditions: { uid } });
  assert.equal(final.status, 200);
  assert.equal((await call(s.url, "GET", `${NS}/pods/web`)).status, 404);
  const events = await w.next(3);
  assert.deepEqual(events.map((e) => e.type), ["MODIFIED", "MODIFIED", "DELETED"]);
});

test("a pod with no node, or in a terminal phase, is removed at once", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/pods`, pod("loose"));
  const d = await call(s.url, "DELETE", `${NS}/pods/loose`);
  assert.equal(d.status, 200);
  assert.equal((await call(s.url, "GET", `${NS}/pods/loose`)).status, 404);
  await call(s.url, "POST", `${NS}/pods`, pod("done", { nodeName: "node1" }));
  await call(s.url, "PATCH", `${NS}/pods/done/status`, { status: { phase: "Succeeded" } }, { "content-type": "application/merge-patch+json" });
  assert.equal((await call(s.url, "DELETE", `${NS}/pods/done`)).status, 200);
  assert.equal((await call(s.url, "GET", `${NS}/pods/done`)).status, 404);
  const cm = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: "c" } });
  assert.equal(cm.status, 201);
  const dc = await call(s.url, "DELETE", `${NS}/configmaps/c`);
  assert.deepEqual([dc.status, dc.body.kind, dc.body.status], [200, "Status", "Success"]);
});

test("deletecollection deletes what the selector matches", async (t) => {
  const s = await startServer(t);
  for (const n of ["a", "b", "c"]) await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: n, labels: { keep: n === "b" ? "yes" : "no" } } });
  const d = await call(s.url, "DELETE", `${NS}/configmaps?labelSelector=keep%3Dno`);
  assert.equal(d.status, 200);
  const left = await call(s.url, "GET", `${NS}/configmaps`);
  assert.deepEqual((left.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ["b"]);
});

test("watch: current objects as ADDED without a resourceVersion, then changes; selectors turn leaving into DELETED", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/pods`, pod("a"));
  const all = await watch(s.url, `${NS}/pods?watch=true`);
  const sel = await watch(s.url, `${NS}/pods?watch=true&labelSelector=app%3Da`);
  t.after(() => { all.close(); sel.close(); });
  assert.deepEqual((await all.next(1)).map((e) => e.type), ["ADDED"]);
  await call(s.url, "POST", `${NS}/pods`, pod("b"));
  await call(s.url, "PATCH", `${NS}/pods/a`, { metadata: { labels: { app: "x" } } }, { "content-type": "application/merge-patch+json" });
  await call(s.url, "PATCH", `${NS}/pods/a`, { metadata: { labels: { app: "a" } } }, { "content-type": "application/merge-patch+json" });
  const ev = await all.next(4);
  assert.deepEqual(ev.map((e) => [e.type, ((e.object as Record<string, unknown>).metadata as Record<string, unknown>).name]), [["ADDED", "a"], ["ADDED", "b"], ["MODIFIED", "a"], ["MODIFIED", "a"]]);
  const sev = await sel.next(3);
  assert.deepEqual(sev.map((e) => e.type), ["ADDED", "DELETED", "ADDED"]);
  const rvs = ev.map((e) => Number(((e.object as Record<string, unknown>).metadata as Record<string, unknown>).resourceVersion));
  assert.deepEqual([...rvs].sort((x, y) => x - y), rvs);
  assert.equal(all.res.headers["content-type"], "application/json");
  assert.equal(all.res.headers["transfer-encoding"], "chunked");
});

test("watch from a resourceVersion replays what came after it; one older than the history gets 410 Expired", async (t) => {
  const s = await startServer(t);
  const a = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: "a" } });
  const rv = Number((a.body.metadata as Record<string, unknown>).resourceVersion);
  await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: "b" } });
  const w = await watch(s.url, `${NS}/configmaps?watch=true&resourceVersion=${rv}`);
  t.after(() => w.close());
  const [first] = await w.next(1);
  assert.equal(first?.type, "ADDED");
  assert.equal(((first?.object as Record<string, unknown>).metadata as Record<string, unknown>).name, "b");
  await call(s.url, "DELETE", `${NS}/configmaps/a`);
  await s.storage.compact(s.storage.currentRevision());
  const old = await watch(s.url, `${NS}/configmaps?watch=true&resourceVersion=${rv}`);
  await old.ended;
  assert.equal(old.res.statusCode, 200);
  assert.equal(old.events.length, 1);
  assert.equal(old.events[0]?.type, "ERROR");
  const status = old.events[0]?.object as Record<string, unknown>;
  assert.deepEqual([status.code, status.reason], [410, "Expired"]);
  assert.match(String(status.message), /^too old resource version: \d+ \(\d+\)$/);
});

test("a malformed resourceVersion on a watch or a list is a 400 BadRequest, not 410 Expired", async (t) => {
  const s = await startServer(t);
  for (const path of [`${NS}/pods?watch=true&resourceVersion=abc`, `${NS}/pods?resourceVersion=abc`, `/api/v1/watch/namespaces/default/pods?resourceVersion=-1`]) {
    const r = await call(s.url, "GET", path);
    assert.equal(r.status, 400, path);
    assert.equal(r.body.reason, "BadRequest");
  }
  const r = await call(s.url, "GET", `${NS}/pods?watch=true&resourceVersion=abc`);
  assert.equal(r.body.message, 'resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": invalid syntax');
  const big = await call(s.url, "GET", `${NS}/pods?watch=true&resourceVersion=99999999999999999999`);
  assert.equal(big.body.message, 'resourceVersion: Invalid value: "99999999999999999999": strconv.ParseUint: parsing "99999999999999999999": value out of range');
});

test("watch bookmarks and timeoutSeconds run on the server's clock", async (t) => {
  const clock = new FakeClock(START);
  const s = await startServer(t, { clock, bookmarkIntervalMs: 60_000 });
  await call(s.url, "POST", `${NS}/pods`, pod("a"));
  const rv = s.storage.currentRevision();
  const w = await watch(s.url, `${NS}/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=120&resourceVersion=${rv}`);
  t.after(() => w.close());
  while (clock.sleepers < 3) await new Promise((r) => setTimeout(r, 5));
  clock.step(60_000);
  const [bm] = await w.next(1);
  assert.equal(bm?.type, "BOOKMARK");
  assert.deepEqual(bm?.object, { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: String(rv) } });
  clock.step(60_000);
  await w.ended;
  assert.ok(w.events.length >= 1);
});

test("a watcher that never reads is disconnected once its buffer is full", async (t) => {
  const s = await startServer(t, { maxWatchBufferedBytes: 256 * 1024 });
  const big = "x".repeat(1024 * 1024);
  const total = 24;
  let received = 0;
  const { ended, res } = await new Promise<{ ended: Promise<void>; res: import("node:http").IncomingMessage }>((resolve) => {
    const req = request(`${s.url}${NS}/configmaps?watch=true&resourceVersion=${s.storage.currentRevision()}`, (res) => {
      res.pause();
      const ended = new Promise<void>((done) => { res.on("close", done); res.on("end", done); res.on("error", () => done()); });
      res.on("data", (c: Buffer) => { received += c.length; });
      res.pause();
      resolve({ ended, res });
    });
    req.end();
  });
  for (let i = 0; i < total; i++) await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: `c${i}` }, data: { big } });
  await new Promise((r) => setTimeout(r, 50));
  // Reading now shows the stream was cut short: the slow reader did not get every event.
  res.resume();
  await Promise.race([ended, new Promise((r) => setTimeout(r, 5000))]);
  assert.ok(received < total * big.length, `received ${received} bytes of ${total * big.length}`);
});

test("Bad input: malformed JSON, oversized bodies, unknown resources, wrong methods, bad content types", async (t) => {
  const s = await startServer(t);
  const bad = await call(s.url, "POST", `${NS}/pods`, "{not json", { "content-type": "application/json" });
  assert.deepEqual([bad.status, bad.body.reason], [400, "BadRequest"]);
  assert.match(String(bad.body.message), /^couldn't get version\/kind; json parse error: /);
  const huge = await call(s.url, "POST", `${NS}/configmaps`, JSON.stringify({ metadata: { name: "h" }, data: { x: "y".repeat(3 * 1024 * 1024 + 10) } }), { "content-type": "application/json" });
  assert.deepEqual([huge.status, huge.body.reason, huge.body.message], [413, "RequestEntityTooLarge", "Request entity too large: limit is 3145728"]);
  const unknown = await call(s.url, "GET", "/api/v1/namespaces/default/widgets");
  assert.deepEqual([unknown.status, unknown.body.reason, unknown.body.message], [404, "NotFound", "the server could not find the requested resource"]);
  assert.equal((await call(s.url, "GET", "/apis/apps/v1")).status, 404);
  assert.equal((await call(s.url, "GET", "/api/v2/pods")).status, 404);
  const wrongVersion = await call(s.url, "POST", `${NS}/pods`, { ...pod("w"), apiVersion: "v2" });
  assert.equal(wrongVersion.status, 400);
  assert.equal(wrongVersion.body.message, "the API version in the data (v2) does not match the expected API version (v1)");
  const method = await call(s.url, "PUT", `${NS}/pods`, pod("m"));
  assert.deepEqual([method.status, method.body.reason], [405, "MethodNotAllowed"]);
  const ct = await call(s.url, "POST", `${NS}/pods`, "x", { "content-type": "text/plain" });
  assert.deepEqual([ct.status, ct.body.reason], [415, "UnsupportedMediaType"]);
  const invalid = await call(s.url, "POST", `${NS}/pods`, { metadata: { name: "noimage" }, spec: { containers: [{ name: "c" }] } });
  assert.deepEqual([invalid.status, invalid.body.reason], [422, "Invalid"]);
  assert.match(String(invalid.body.message), /^Pod "noimage" is invalid: .*spec\.containers\[0\]\.image: Required value/);
  const yaml = await call(s.url, "POST", `${NS}/configmaps`, "metadata:\n  name: from-yaml\ndata:\n  k: v\n", { "content-type": "application/yaml" });
  assert.deepEqual([yaml.status, yaml.body.data], [201, { k: "v" }]);
});

test("many requests at once: past the in-flight limit the server answers 429 with Retry-After", async (t) => {
  const s = await startServer(t, { maxMutatingRequestsInFlight: 1 });
  // A write whose body never finishes holds the only mutating slot.
  const hold = request(`${s.url}${NS}/configmaps`, { method: "POST", headers: { "content-type": "application/json", "content-length": "100" } });
  hold.on("error", () => undefined);
  hold.write('{"metadata":');
  t.after(() => hold.destroy());
  await new Promise((r) => setTimeout(r, 50));
  const r = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: "x" } });
  assert.deepEqual([r.status, r.body.reason, r.headers.get("retry-after")], [429, "TooManyRequests", "1"]);
  assert.equal((await call(s.url, "GET", `${NS}/configmaps`)).status, 200);
});

test("authentication: no identity gets 401 Unauthorized; health endpoints and /version stay open", async (t) => {
  const s = await startServer(t, { authenticate: (req) => (req.headers.authorization === "Bearer good" ? { user: "admin", groups: ["system:masters"] } : undefined) });
  const r = await call(s.url, "GET", `${NS}/pods`);
  assert.deepEqual([r.status, r.body.reason, r.body.message], [401, "Unauthorized", "Unauthorized"]);
  assert.equal((await call(s.url, "GET", `${NS}/pods`, undefined, { authorization: "Bearer good" })).status, 200);
  const h = await call(s.url, "GET", "/healthz");
  assert.deepEqual([h.status, h.text], [200, "ok"]);
  assert.equal((await call(s.url, "GET", "/version")).status, 200);
  assert.equal((await call(s.url, "GET", "/api")).status, 401);
});

test("version, discovery (legacy and aggregated by Accept) and OpenAPI v3", async (t) => {
  const s = await startServer(t, { serverAddress: "127.0.0.1:6443" });
  const v = await call(s.url, "GET", "/version?timeout=5s");
  assert.deepEqual([v.body.major, v.body.minor, v.body.gitVersion], ["1", "32", "v1.32.4-podyard"]);
  const api = await call(s.url, "GET", "/api");
  assert.deepEqual(api.body, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1:6443" }] });
  const AGG = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  const agg = await call(s.url, "GET", "/api", undefined, { accept: AGG });
  assert.equal(agg.headers.get("content-type"), "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  const core = ((agg.body.items as Record<string, unknown>[])[0]?.versions as Record<string, unknown>[])[0]?.resources as Record<string, unknown>[];
  const pods = core.find((r) => r.resource === "pods") as Record<string, unknown>;
  assert.deepEqual((pods.subresources as { subresource: string }[]).map((x) => x.subresource).sort(), ["attach", "binding", "exec", "log", "portforward", "status"]);
  const apis = await call(s.url, "GET", "/apis");
  assert.deepEqual((apis.body.groups as { name: string }[]).map((g) => g.name), ["events.k8s.io", "coordination.k8s.io"]);
  const v1 = await call(s.url, "GET", "/api/v1");
  assert.ok((v1.body.resources as { name: string }[]).some((r) => r.name === "pods/exec"));
  assert.equal((await call(s.url, "GET", "/apis/coordination.k8s.io/v1")).body.groupVersion, "coordination.k8s.io/v1");
  const index = await call(s.url, "GET", "/openapi/v3");
  const url = (index.body.paths as Record<string, { serverRelativeURL: string }>)["api/v1"]?.serverRelativeURL ?? "";
  assert.match(url, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
  const doc = await call(s.url, "GET", url);
  assert.equal(doc.body.openapi, "3.0.0");
  // v2 is an empty document: kubectl reads it only for kinds v3 lacks, and then skips validating them.
  const v2 = await call(s.url, "GET", "/openapi/v2");
  assert.deepEqual([v2.status, v2.body.swagger, v2.body.definitions], [200, "2.0", {}]);
});

test("namespaces: the system ones exist with a default service account; deleting one empties it, then removes it", async (t) => {
  const s = await startServer(t);
  for (const ns of ["default", "kube-system", "kube-public", "kube-node-lease"]) {
    assert.equal((await call(s.url, "GET", `/api/v1/namespaces/${ns}`)).body.status && 200, 200);
    assert.equal((await call(s.url, "GET", `/api/v1/namespaces/${ns}/serviceaccounts/default`)).status, 200);
  }
  const missing = await call(s.url, "POST", "/api/v1/namespaces/nope/pods", pod("p"));
  assert.deepEqual([missing.status, missing.body.message], [404, 'namespaces "nope" not found']);
  assert.equal((await call(s.url, "POST", "/api/v1/namespaces", { metadata: { name: "team" } })).status, 201);
  assert.equal((await call(s.url, "GET", "/api/v1/namespaces/team/serviceaccounts/default")).status, 200);
  await call(s.url, "POST", "/api/v1/namespaces/team/pods", pod("bound", { nodeName: "node1" }));
  await call(s.url, "POST", "/api/v1/namespaces/team/configmaps", { metadata: { name: "c" } });
  const del = await call(s.url, "DELETE", "/api/v1/namespaces/team");
  assert.equal(del.status, 200);
  assert.equal((del.body.status as Record<string, unknown>).phase, "Terminating");
  const refused = await call(s.url, "POST", "/api/v1/namespaces/team/configmaps", { metadata: { name: "late" } });
  assert.deepEqual([refused.status, refused.body.reason, refused.body.message],
    [403, "Forbidden", 'configmaps "late" is forbidden: unable to create new content in namespace team because it is being terminated']);
  // The bound pod waits for its kubelet; once it is gone, so is the namespace.
  let p: Awaited<ReturnType<typeof call>> | undefined;
  for (let i = 0; i < 100; i++) {
    p = await call(s.url, "GET", "/api/v1/namespaces/team/pods/bound");
    if ((p.body.metadata as Record<string, unknown> | undefined)?.deletionTimestamp) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok((p?.body.metadata as Record<string, unknown>).deletionTimestamp);
  // The namespace controller goes on to the rest of the content, one durable write at a time.
  let cm = 0;
  for (let i = 0; i < 100 && cm !== 404; i++) {
    cm = (await call(s.url, "GET", "/api/v1/namespaces/team/configmaps/c")).status;
    if (cm !== 404) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(cm, 404);
  assert.equal((await call(s.url, "GET", "/api/v1/namespaces/team")).status, 200);
  await call(s.url, "DELETE", "/api/v1/namespaces/team/pods/bound", { gracePeriodSeconds: 0 });
  let gone = 0;
  for (let i = 0; i < 100 && gone !== 404; i++) {
    gone = (await call(s.url, "GET", "/api/v1/namespaces/team")).status;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(gone, 404);
  const def = await call(s.url, "DELETE", "/api/v1/namespaces/default");
  assert.deepEqual([def.status, def.body.message], [403, 'namespaces "default" is forbidden: this namespace may not be deleted']);
});

test("a protobuf Secret body (kubectl create secret docker-registry) is decoded and served as JSON", async (t) => {
  const s = await startServer(t);
  const str = (field: number, v: string | Buffer): Buffer => {
    const b = Buffer.isBuffer(v) ? v : Buffer.from(v);
    return Buffer.concat([Buffer.from([(field << 3) | 2]), varint(b.length), b]);
  };
  const varint = (n: number): Buffer => { const out: number[] = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; out.push(b); } while (n); return Buffer.from(out); };
  const config = '{"auths":{"r.example.com":{"username":"u","password":"p","email":"e@x.io","auth":"dTpw"}}}';
  const meta = Buffer.concat([str(1, "regcred"), str(2, ""), str(3, ""), str(4, ""), str(5, ""), str(6, "")]);
  const secret = Buffer.concat([str(1, meta), str(2, Buffer.concat([str(1, ".dockerconfigjson"), str(2, config)])), str(3, "kubernetes.io/dockerconfigjson")]);
  const body = Buffer.concat([Buffer.from("k8s\0"), str(1, Buffer.concat([str(1, "v1"), str(2, "Secret")])), str(2, secret), str(3, ""), str(4, "")]);
  const r = await call(s.url, "POST", `${NS}/secrets?fieldManager=kubectl-create&fieldValidation=Strict`, new Uint8Array(body), {
    "content-type": "application/vnd.kubernetes.protobuf", accept: "application/vnd.kubernetes.protobuf,application/json",
  });
  assert.equal(r.status, 201);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.equal(r.body.type, "kubernetes.io/dockerconfigjson");
  assert.equal(Buffer.from(String((r.body.data as Record<string, string>)[".dockerconfigjson"]), "base64").toString(), config);
  assert.equal((r.body.metadata as Record<string, unknown>).name, "regcred");
});

test("events are one store seen through core/v1 and events.k8s.io/v1, selectable by involvedObject", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/events`, {
    metadata: { name: "web.1" }, involvedObject: { kind: "Pod", namespace: "default", name: "web", uid: "u1" },
    reason: "Pulled", message: "Container image \"nginx\" already present on machine", type: "Normal", source: { component: "kubelet", host: "node1" }, count: 1,
  });
  const sel = await call(s.url, "GET", `${NS}/events?fieldSelector=${encodeURIComponent("involvedObject.name=web,involvedObject.namespace=default,involvedObject.uid=u1")}`);
  assert.equal((sel.body.items as unknown[]).length, 1);
  assert.equal((await call(s.url, "GET", `${NS}/events?fieldSelector=involvedObject.uid%3Dother`)).body.items instanceof Array, true);
  const v1 = await call(s.url, "GET", "/apis/events.k8s.io/v1/namespaces/default/events/web.1");
  assert.equal(v1.body.apiVersion, "events.k8s.io/v1");
  assert.equal(v1.body.note, "Container image \"nginx\" already present on machine");
  assert.equal((v1.body.regarding as Record<string, unknown>).name, "web");
  await call(s.url, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", { metadata: { name: "web.2" }, regarding: { kind: "Pod", name: "web" }, note: "Scheduled it", reason: "Scheduled", type: "Normal", reportingController: "default-scheduler", action: "Binding", eventTime: "2026-12-03T10:00:00.000000Z", reportingInstance: "x" });
  const core = await call(s.url, "GET", `${NS}/events/web.2`);
  assert.equal(core.body.message, "Scheduled it");
  assert.equal(core.body.reportingComponent, "default-scheduler");
});

test("dryRun=All validates and answers without storing; Accept as=Table gives a Table", async (t) => {
  const s = await startServer(t);
  const dry = await call(s.url, "POST", `${NS}/pods?dryRun=All`, pod("dry"));
  assert.equal(dry.status, 201);
  assert.equal((await call(s.url, "GET", `${NS}/pods/dry`)).status, 404);
  await call(s.url, "POST", `${NS}/pods`, pod("web"));
  const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
  const t1 = await call(s.url, "GET", `${NS}/pods?limit=500`, undefined, { accept: TABLE });
  assert.equal(t1.body.kind, "Table");
  assert.equal((t1.body.rows as unknown[]).length, 1);
  assert.match(String((t1.body.metadata as Record<string, unknown>).resourceVersion), /^\d+$/);
});

test("binding assigns a node once; nodes are cluster-scoped with a status subresource", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/pods`, pod("web"));
  const b = await call(s.url, "POST", `${NS}/pods/web/binding`, { apiVersion: "v1", kind: "Binding", metadata: { name: "web" }, target: { kind: "Node", name: "node1" } });
  assert.equal(b.status, 201);
  assert.equal(((await call(s.url, "GET", `${NS}/pods/web`)).body.spec as Record<string, unknown>).nodeName, "node1");
  const again = await call(s.url, "POST", `${NS}/pods/web/binding`, { target: { kind: "Node", name: "node2" } });
  assert.equal(again.status, 409);
  const n = await call(s.url, "POST", "/api/v1/nodes", { metadata: { name: "node1", namespace: "ignored" }, status: { conditions: [{ type: "Ready", status: "True" }] } });
  assert.equal(n.status, 201);
  assert.equal((n.body.metadata as Record<string, unknown>).namespace, undefined);
  const ns = await call(s.url, "PATCH", "/api/v1/nodes/node1/status", { status: { conditions: [{ type: "Ready", status: "False" }] } }, { "content-type": "application/merge-patch+json" });
  assert.equal(ns.status, 200);
  assert.equal((await call(s.url, "GET", "/api/v1/namespaces/default/nodes/node1")).status, 404);
  const lease = await call(s.url, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", { metadata: { name: "node1" }, spec: { holderIdentity: "node1", leaseDurationSeconds: 40 } });
  assert.equal(lease.status, 201);
  assert.equal(lease.body.apiVersion, "coordination.k8s.io/v1");
});

test("a binding adds no managedFields entry; other writes are named by ?fieldManager, else the User-Agent's first word", async (t) => {
  const s = await startServer(t);
  const managers = (o: Record<string, unknown>): string[] =>
    (((o.metadata as Record<string, unknown>).managedFields ?? []) as { manager?: string; operation: string; subresource?: string }[])
      .map((m) => [m.manager, m.operation, m.subresource].filter(Boolean).join("/"));
  const created = await call(s.url, "POST", `${NS}/pods`, pod("web"), { "user-agent": "kubectl/v1.32.4 (linux/amd64) kubernetes/abc" });
  assert.deepEqual(managers(created.body), ["kubectl/Update"]);
  const b = await call(s.url, "POST", `${NS}/pods/web/binding`, { target: { kind: "Node", name: "node1" } }, { "user-agent": SCHEDULER_AGENT });
  assert.equal(b.status, 201);
  const bound = await call(s.url, "GET", `${NS}/pods/web`);
  assert.deepEqual(managers(bound.body), ["kubectl/Update"]);
  const st = await call(s.url, "PATCH", `${NS}/pods/web/status?fieldManager=podyard-kubelet`, { status: { phase: "Running" } }, { "content-type": "application/merge-patch+json", "user-agent": "other/1" });
  assert.deepEqual(managers(st.body), ["kubectl/Update", "podyard-kubelet/Update/status"]);
});

test("history is compacted on the server's clock: a watch from before the last compaction gets 410", async (t) => {
  const clock = new FakeClock(START);
  const s = await startServer(t, { clock, compactionIntervalMs: 300_000 });
  const a = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: "a" } });
  const rv = String((a.body.metadata as Record<string, unknown>).resourceVersion);
  await call(s.url, "PUT", `${NS}/configmaps/a`, { metadata: { name: "a" }, data: { k: "1" } });
  const settle = async (): Promise<void> => { for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); };
  // The first round compacts to what was current at start-up, the second to the revision seen at the first.
  clock.step(300_000);
  await settle();
  const stillThere = await watch(s.url, `${NS}/configmaps?watch=true&resourceVersion=${rv}`);
  const [ev] = await stillThere.next(1);
  assert.equal(ev?.type, "MODIFIED");
  stillThere.close();
  clock.step(300_000);
  await settle();
  const old = await watch(s.url, `${NS}/configmaps?watch=true&resourceVersion=${rv}`);
  await old.ended;
  assert.equal(old.events[0]?.type, "ERROR");
  assert.equal((old.events[0]?.object as Record<string, unknown>).code, 410);
});

test("events expire an hour after they last happened; /watch/.../name watches one object", async (t) => {
  const clock = new FakeClock(START);
  const s = await startServer(t, { clock, compactionIntervalMs: 60 * 60_000 });
  await call(s.url, "POST", `${NS}/events`, { metadata: { name: "old.1" }, involvedObject: { kind: "Pod", name: "a" }, reason: "Pulled", lastTimestamp: "2026-12-03T10:00:00Z" });
  await call(s.url, "POST", `${NS}/events`, { metadata: { name: "new.1" }, involvedObject: { kind: "Pod", name: "a" }, reason: "Pulled", lastTimestamp: "2026-12-03T10:59:00Z" });
  const w = await watch(s.url, `/api/v1/watch/namespaces/default/events/old.1?timeoutSeconds=7200&resourceVersion=${s.storage.currentRevision()}`);
  t.after(() => w.close());
  clock.step(60 * 60_000 + 1000);
  const [ev] = await w.next(1);
  assert.equal(ev?.type, "DELETED");
  assert.equal(((ev?.object as Record<string, unknown>).metadata as Record<string, unknown>).name, "old.1");
  const left = await call(s.url, "GET", `${NS}/events`);
  assert.deepEqual((left.body.items as { metadata: { name: string } }[]).map((i) => i.metadata.name), ["new.1"]);
});

test("state survives a restart on the same database: objects, their resourceVersions, and rising revisions", async (t) => {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { createServer } = await import("node:http");
  const { createApiServer, SqliteStorage } = await import("../../src/apiserver/index.js");
  const dir = mkdtempSync(join(tmpdir(), "podyard-api-restart-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (fn: (url: string) => Promise<void>): Promise<void> => {
    const storage = new SqliteStorage(join(dir, "state.db"));
    const api = createApiServer({ storage });
    const server = createServer();
    api.listen(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    await api.ready;
    try {
      await fn(`http://127.0.0.1:${(server.address() as import("node:net").AddressInfo).port}`);
    } finally {
      await api.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      storage.close();
    }
  };
  let rv = "";
  await run(async (url) => {
    rv = String(((await call(url, "POST", `${NS}/pods`, pod("web"))).body.metadata as Record<string, unknown>).resourceVersion);
  });
  await run(async (url) => {
    const got = await call(url, "GET", `${NS}/pods/web`);
    assert.equal((got.body.metadata as Record<string, unknown>).resourceVersion, rv);
    const next = await call(url, "POST", `${NS}/configmaps`, { metadata: { name: "after" } });
    assert.ok(Number((next.body.metadata as Record<string, unknown>).resourceVersion) > Number(rv));
    assert.equal((await call(url, "GET", "/api/v1/namespaces")).status, 200);
  });
});

test("fieldValidation: Strict refuses unknown fields, Warn stores without them and says so in Warning headers", async (t) => {
  const s = await startServer(t);
  const body = { ...pod("web"), spec: { containers: [{ name: "c", image: "busybox:1.36", imag: "typo" }] } };
  const strict = await call(s.url, "POST", `${NS}/pods?fieldValidation=Strict`, body);
  assert.deepEqual([strict.status, strict.body.reason], [400, "BadRequest"]);
  assert.equal(strict.body.message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imag"');
  const warn = await call(s.url, "POST", `${NS}/pods`, body);
  assert.equal(warn.status, 201);
  assert.equal(warn.headers.get("warning"), '299 - "unknown field \\"spec.containers[0].imag\\""');
  assert.ok(!JSON.stringify(warn.body).includes("typo"));
  const ignore = await call(s.url, "POST", `${NS}/pods?fieldValidation=Ignore`, { ...body, metadata: { name: "web2" } });
  assert.deepEqual([ignore.status, ignore.headers.get("warning")], [201, null]);
});

test("server-side apply records managers and answers a conflict with 409 unless forced; pod updates may not change the spec", async (t) => {
  const s = await startServer(t);
  const applied = { apiVersion: "v1", kind: "Pod", metadata: { name: "web" }, spec: { containers: [{ name: "a", image: "nginx:1.27" }] } };
  const APPLY = { "content-type": "application/apply-patch+yaml" };
  const first = await call(s.url, "PATCH", `${NS}/pods/web?fieldManager=kubectl&force=false`, applied, APPLY);
  assert.equal(first.status, 201);
  const managers = ((first.body.metadata as Record<string, unknown>).managedFields as { manager: string; operation: string }[]).map((m) => `${m.manager}/${m.operation}`);
  assert.ok(managers.includes("kubectl/Apply"), managers.join(","));
  const other = await call(s.url, "PATCH", `${NS}/pods/web?fieldManager=other`, { ...applied, spec: { containers: [{ name: "a", image: "nginx:1.28" }] } }, APPLY);
  assert.deepEqual([other.status, other.body.reason], [409, "Conflict"]);
  assert.match(String(other.body.message), /^Apply failed with 1 conflict: conflict with "kubectl"/);
  assert.equal(((other.body.details as Record<string, unknown>).causes as { reason: string }[])[0]?.reason, "FieldManagerConflict");
  const forced = await call(s.url, "PATCH", `${NS}/pods/web?fieldManager=other&force=true`, { ...applied, spec: { containers: [{ name: "a", image: "nginx:1.28" }] } }, APPLY);
  assert.equal(forced.status, 200);
  assert.equal((forced.body.spec as { containers: { image: string }[] }).containers[0]?.image, "nginx:1.28");
  const noManager = await call(s.url, "PATCH", `${NS}/pods/web`, applied, APPLY);
  assert.equal(noManager.status, 400);
  const immutable = await call(s.url, "PATCH", `${NS}/pods/web`, { spec: { restartPolicy: "Never" } }, { "content-type": "application/merge-patch+json" });
  assert.deepEqual([immutable.status, immutable.body.reason], [422, "Invalid"]);
  assert.match(String(immutable.body.message), /^Pod "web" is invalid: spec: Forbidden: pod updates may not change fields other than/);
});

test("a Table watch sends the column definitions with the first event only; pod subresources reach the proxy", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/pods`, pod("a"));
  const TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
  const w = await watch(s.url, `${NS}/pods?watch=true`, { accept: TABLE });
  t.after(() => w.close());
  await w.next(1);
  await call(s.url, "POST", `${NS}/pods`, pod("b"));
  const [first, second] = await w.next(2);
  const t1 = first?.object as { kind: string; columnDefinitions: unknown[]; rows: { cells: unknown[] }[] };
  const t2 = second?.object as { kind: string; columnDefinitions?: unknown[]; rows: { cells: unknown[] }[] };
  assert.deepEqual([t1.kind, t2.kind], ["Table", "Table"]);
  assert.ok(t1.columnDefinitions.length > 0);
  assert.equal(t2.columnDefinitions?.length ?? 0, 0);
  assert.deepEqual([t1.rows[0]?.cells[0], t2.rows[0]?.cells[0]], ["a", "b"]);
  // Logs go through the proxy: an unscheduled pod has an empty log, one on an unknown node a Status.
  const empty = await call(s.url, "GET", `${NS}/pods/a/log`);
  assert.deepEqual([empty.status, empty.text], [200, ""]);
  await call(s.url, "POST", `${NS}/pods`, pod("bound", { nodeName: "ghost-node" }));
  const logs = await call(s.url, "GET", `${NS}/pods/bound/log`);
  assert.equal(logs.body.kind, "Status");
  assert.ok(logs.status >= 400);
  assert.equal((await call(s.url, "GET", `${NS}/pods/nope/log`)).status, 404);
  const plain = await call(s.url, "GET", `${NS}/pods/a/exec?command=ls`);
  assert.deepEqual([plain.status, plain.body.message], [400, "Upgrade request required"]);
});
