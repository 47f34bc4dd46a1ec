import assert from "node:assert/strict";
import { test } from "node:test";
import { matchRoute, queryFlag } from "../../../src/kubelet/server/routes.js";

test("the kubelet's paths", () => {
  assert.deepEqual(matchRoute("/containerLogs/default/web/main"), { kind: "containerLogs", namespace: "default", pod: "web", container: "main" });
  assert.deepEqual(matchRoute("/exec/default/web/main"), { kind: "exec", namespace: "default", pod: "web", container: "main" });
  assert.deepEqual(matchRoute("/exec/default/web/uid-1/main"), { kind: "exec", namespace: "default", pod: "web", container: "main" });
  assert.deepEqual(matchRoute("/attach/ns/p/c"), { kind: "attach", namespace: "ns", pod: "p", container: "c" });
  assert.deepEqual(matchRoute("/portForward/ns/p"), { kind: "portForward", namespace: "ns", pod: "p" });
  assert.deepEqual(matchRoute("/runningpods/"), { kind: "runningpods" });
  assert.deepEqual(matchRoute("/stats/summary"), { kind: "statsSummary" });
  for (const bad of ["/exec/ns/p", "/containerLogs/ns/p", "/stats", "/nope", "/exec/%zz/p/c"]) assert.equal(matchRoute(bad), undefined, bad);
});

test("query flags: 1 or true, under either name", () => {
  const q = new URLSearchParams("input=1&stdout=true&error=0");
  assert.equal(queryFlag(q, "input", "stdin"), true);
  assert.equal(queryFlag(q, "output", "stdout"), true);
  assert.equal(queryFlag(q, "error", "stderr"), false);
  assert.equal(queryFlag(q, "tty"), false);
});
