/** The scheduler against a tiny in-test API server over real HTTP: binds, events, back-off. */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Event, Node, Pod } from "../../src/api/index.js";
import { FakeClock } from "../../src/clock/index.js";
import { HttpSchedulerApi, Scheduler } from "../../src/scheduler/index.js";

interface Fake {
  url: string;
  pods: Map<string, Pod>;
  nodes: Node[];
  events: Event[];
  bindings: string[];
  statusPatches: unknown[];
  addPod(p: Pod): void;
  addNode(n: Node): void;
  tokenSeen: Set<string>;
}

async function fakeApi(t: TestContext): Promise<Fake> {
  let rv = 10;
  const watchers = new Set<ServerResponse>();
  const nodeWatchers = new Set<ServerResponse>();
  const fake: Fake = {
    url: "", pods: new Map(), nodes: [], events: [], bindings: [], statusPatches: [], tokenSeen: new Set(),
    addPod(p) {
      p.metadata.resourceVersion = String(++rv);
      fake.pods.set(p.metadata.name ?? "", p);
      if ((p.spec.nodeName ?? "") === "") for (const w of watchers) w.write(`${JSON.stringify({ type: "ADDED", object: p })}\n`);
    },
    addNode(n) {
      n.metadata.resourceVersion = String(++rv);
      fake.nodes.push(n);
      for (const w of nodeWatchers) w.write(`${JSON.stringify({ type: "ADDED", object: n })}\n`);
    },
  };
  const body = async (req: IncomingMessage): Promise<unknown> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as unknown;
  };
  const send = (res: ServerResponse, code: number, obj: unknown): void => {
    res.writeHead(code, { "Content-Type": "application/json" }).end(JSON.stringify(obj));
  };
  const server = createServer((req, res) => void (async () => {
    fake.tokenSeen.add(req.headers.authorization ?? "");
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    if (req.method === "GET" && p === "/api/v1/nodes") {
      if (url.searchParams.get("watch") === "true") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        nodeWatchers.add(res);
        res.on("close", () => nodeWatchers.delete(res));
        return;
      }
      return send(res, 200, { kind: "NodeList", metadata: { resourceVersion: String(rv) }, items: fake.nodes });
    }
    if (req.method === "GET" && p === "/api/v1/pods") {
      const unscheduled = url.searchParams.get("fieldSelector") === "spec.nodeName=";
      if (url.searchParams.get("watch") === "true") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        watchers.add(res);
        res.on("close", () => watchers.delete(res));
        return;
      }
      const items = [...fake.pods.values()].filter((x) => !unscheduled || (x.spec.nodeName ?? "") === "");
      return send(res, 200, { kind: "PodList", metadata: { resourceVersion: String(rv) }, items });
    }
    const bind = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/binding$/.exec(p);
    if (req.method === "POST" && bind) {
      const b = (await body(req)) as { target: { name: string } };
      const pod = fake.pods.get(bind[2] ?? "");
      if (!pod) return send(res, 404, { kind: "Status", code: 404, reason: "NotFound", message: `pods "${bind[2] ?? ""}" not found` });
      pod.spec.nodeName = b.target.name;
      fake.bindings.push(`${bind[2] ?? ""}->${b.target.name}`);
      return send(res, 201, { kind: "Status", status: "Success" });
    }
    if (req.method === "POST" && /\/events$/.test(p)) {
      const e = (await body(req)) as Event;
      fake.events.push(e);
      return send(res, 201, e);
    }
    const ev = /\/events\/([^/]+)$/.exec(p);
    if (req.method === "PATCH" && ev) {
      const patch = (await body(req)) as Partial<Event>;
      const e = fake.events.find((x) => x.metadata.name === ev[1]);
      if (e) Object.assign(e, patch);
      return send(res, 200, e);
    }
    if (req.method === "PATCH" && p.endsWith("/status")) {
      fake.statusPatches.push(await body(req));
      return send(res, 200, {});
    }
    send(res, 404, { kind: "Status", code: 404, reason: "NotFound", message: `no route ${req.method ?? ""} ${p}` });
  })());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(() => {
    for (const w of [...watchers, ...nodeWatchers]) w.destroy();
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return fake;
}

function readyNode(name: string, labels: Record<string, string> = {}): Node {
  return {
    apiVersion: "v1", kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...labels } },
    status: { allocatable: { pods: "110" }, conditions: [{ type: "Ready", status: "True" }] },
  };
}

function newPod(name: string, spec: Partial<Pod["spec"]> = {}): Pod {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", uid: `uid-${name}` }, spec: { containers: [{ name: "c", image: "alpine" }], ...spec } };
}

async function until(what: string, cond: () => boolean, clock?: FakeClock): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
    if (clock && i % 10 === 9) clock.step(0);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("an unscheduled pod is bound to a Ready node, with the Scheduled event", async (t) => {
  const fake = await fakeApi(t);
  fake.nodes.push(readyNode("node1"));
  fake.addPod(newPod("early"));
  const s = new Scheduler({ api: new HttpSchedulerApi({ server: fake.url, token: "secret" }), instance: "default-scheduler-test" });
  s.start();
  t.after(() => s.stop());
  await until("the listed pod bound", () => fake.bindings.includes("early->node1"));
  fake.addPod(newPod("web"));
  await until("the watched pod bound", () => fake.bindings.includes("web->node1"));
  await until("events", () => fake.events.length === 2);
  const e = fake.events.find((x) => x.involvedObject.name === "web");
  assert.equal(e?.reason, "Scheduled");
  assert.equal(e?.type, "Normal");
  assert.equal(e?.message, "Successfully assigned default/web to node1");
  assert.equal(e?.reportingComponent, "default-scheduler");
  assert.equal(e?.reportingInstance, "default-scheduler-test");
  assert.equal(e?.involvedObject.uid, "uid-web");
  assert.match(e?.eventTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(fake.tokenSeen.has("Bearer secret"));
});

test("a pod that fits nowhere gets FailedScheduling, then runs once a matching node is Ready", async (t) => {
  const fake = await fakeApi(t);
  const clock = new FakeClock(Date.parse("2026-12-03T10:00:00Z"));
  fake.nodes.push(readyNode("node1"));
  const s = new Scheduler({ api: new HttpSchedulerApi({ server: fake.url }), clock });
  s.start();
  t.after(() => s.stop());
  fake.addPod(newPod("web", { nodeSelector: { "kubernetes.io/hostname": "node2" } }));
  await until("FailedScheduling", () => fake.events.length === 1);
  const failed = fake.events[0];
  assert.equal(failed?.reason, "FailedScheduling");
  assert.equal(failed?.type, "Warning");
  assert.equal(failed?.message, "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.");
  await until("the PodScheduled=False condition", () => fake.statusPatches.length === 1);
  assert.deepEqual((fake.statusPatches[0] as { status: { conditions: { type: string; status: string; reason: string }[] } }).status.conditions.map((c) => [c.type, c.status, c.reason]), [["PodScheduled", "False", "Unschedulable"]]);
  assert.deepEqual(s.pending(), ["default/web"]);

  // the second try comes after 1 s of back-off, counted on the same event
  clock.step(999);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(failed?.series, undefined);
  clock.step(1);
  await until("the repeat counted", () => failed?.series?.count === 2);
  assert.equal(fake.events.length, 1);

  // then 2 s; by then node2 is Ready and the pod is bound there
  fake.addNode(readyNode("node2"));
  clock.step(1_999);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(fake.bindings, []);
  clock.step(1);
  await until("bound to node2", () => fake.bindings.includes("web->node2"));
  await until("Scheduled", () => fake.events.some((e) => e.reason === "Scheduled"));
  assert.equal(fake.events.find((e) => e.reason === "Scheduled")?.message, "Successfully assigned default/web to node2");
  assert.deepEqual(s.pending(), []);
});

test("pods of another scheduler and pods with a node are left alone", async (t) => {
  const fake = await fakeApi(t);
  fake.nodes.push(readyNode("node1"));
  const s = new Scheduler({ api: new HttpSchedulerApi({ server: fake.url }) });
  s.start();
  t.after(() => s.stop());
  fake.addPod(newPod("other", { schedulerName: "my-scheduler" }));
  fake.addPod(newPod("mine"));
  await until("mine bound", () => fake.bindings.includes("mine->node1"));
  assert.deepEqual(fake.bindings, ["mine->node1"]);
});

test("a node's room counts the pod just bound there, before the watch reports the binding", async (t) => {
  const fake = await fakeApi(t);
  const clock = new FakeClock(Date.parse("2026-12-03T10:00:00Z"));
  const node = readyNode("node1");
  (node.status as { allocatable: Record<string, string> }).allocatable.pods = "1";
  fake.nodes.push(node);
  const s = new Scheduler({ api: new HttpSchedulerApi({ server: fake.url }), clock });
  s.start();
  t.after(() => s.stop());
  fake.addPod(newPod("first"));
  await until("first bound", () => fake.bindings.includes("first->node1"));
  // the fake's watch never says "first" was bound: only the scheduler's own cache knows
  fake.addPod(newPod("second"));
  await until("FailedScheduling", () => fake.events.some((e) => e.reason === "FailedScheduling"));
  assert.deepEqual(fake.bindings, ["first->node1"]);
  assert.equal(fake.events.find((e) => e.reason === "FailedScheduling")?.message,
    "0/1 nodes are available: 1 Too many pods. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.");
});
