import assert from "node:assert/strict";
import { test } from "node:test";
import { PatchError, jsonMergePatch, jsonPatch, strategicMergePatch } from "../../../src/apiserver/patch/index.js";

const live = () => ({
  apiVersion: "v1", kind: "Pod",
  metadata: { name: "web", labels: { app: "web", tier: "front" }, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}\n" }, finalizers: ["a"] },
  spec: {
    containers: [
      { name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }], env: [{ name: "A", value: "1" }], volumeMounts: [{ name: "v", mountPath: "/v" }] },
      { name: "sidecar", image: "busybox", command: ["sh", "-c", "sleep 1d"] },
    ],
    volumes: [{ name: "v", emptyDir: {} }],
    tolerations: [{ key: "x", operator: "Exists" }],
  },
});

test("kubectl apply's body: an image change with $setElementOrder, which is never stored", () => {
  const patch = {
    metadata: { annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{\"new\":1}\n" } },
    spec: { "$setElementOrder/containers": [{ name: "nginx" }, { name: "sidecar" }], containers: [{ image: "nginx:1.28", name: "nginx" }] },
  };
  const out = strategicMergePatch(live(), patch, "Pod") as ReturnType<typeof live>;
  const want = live();
  want.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"] = "{\"new\":1}\n";
  (want.spec.containers[0] as { image: string }).image = "nginx:1.28";
  assert.deepEqual(out, want);
  assert.ok(!JSON.stringify(out).includes("$setElementOrder"));
});

test("$setElementOrder reorders, new items go where the order says, server-only items keep their place", () => {
  const reordered = strategicMergePatch(live(), { spec: { "$setElementOrder/containers": [{ name: "sidecar" }, { name: "nginx" }] } }, "Pod") as ReturnType<typeof live>;
  assert.deepEqual(reordered.spec.containers.map((c) => c.name), ["sidecar", "nginx"]);
  const added = strategicMergePatch(live(), { spec: {
    "$setElementOrder/containers": [{ name: "first" }, { name: "nginx" }],
    containers: [{ name: "first", image: "x" }],
  } }, "Pod") as ReturnType<typeof live>;
  assert.deepEqual(added.spec.containers.map((c) => c.name), ["first", "nginx", "sidecar"]);
});

test("lists merge by their keys: ports by containerPort, env by name, volumeMounts by mountPath; others are replaced", () => {
  const out = strategicMergePatch(live(), { spec: {
    containers: [{ name: "nginx", ports: [{ containerPort: 443 }], env: [{ name: "A", value: "2" }, { name: "B", value: "3" }], volumeMounts: [{ mountPath: "/w", name: "v" }] },
      { name: "sidecar", command: ["true"] }],
    tolerations: [{ key: "y", operator: "Exists" }],
  } }, "Pod") as ReturnType<typeof live>;
  const [nginx, sidecar] = out.spec.containers;
  assert.deepEqual(nginx?.ports, [{ containerPort: 80, protocol: "TCP" }, { containerPort: 443 }]);
  assert.deepEqual(nginx?.env, [{ name: "A", value: "2" }, { name: "B", value: "3" }]);
  assert.deepEqual(nginx?.volumeMounts?.map((m) => m.mountPath), ["/v", "/w"]);
  assert.deepEqual(sidecar?.command, ["true"]);
  assert.deepEqual(out.spec.tolerations, [{ key: "y", operator: "Exists" }]);
});

test("null deletes; $patch delete removes an item; $patch replace replaces a map or a list", () => {
  const out = strategicMergePatch(live(), {
    metadata: { labels: { tier: null } },
    spec: { containers: [{ name: "sidecar", $patch: "delete" }], volumes: [{ $patch: "replace" }, { name: "w", emptyDir: {} }] },
  }, "Pod") as ReturnType<typeof live>;
  assert.deepEqual(out.metadata.labels, { app: "web" });
  assert.deepEqual(out.spec.containers.map((c) => c.name), ["nginx"]);
  assert.deepEqual(out.spec.volumes, [{ name: "w", emptyDir: {} }]);
  const replaced = strategicMergePatch(live(), { metadata: { labels: { $patch: "replace", only: "this" } } }, "Pod") as ReturnType<typeof live>;
  assert.deepEqual(replaced.metadata.labels, { only: "this" });
  const gone = strategicMergePatch(live(), { metadata: { annotations: { $patch: "delete" } } }, "Pod") as { metadata: object };
  assert.ok(!("annotations" in gone.metadata));
});

test("$retainKeys clears the other members of a volume; $deleteFromPrimitiveList and set-like finalizers", () => {
  const out = strategicMergePatch(live(), { metadata: { finalizers: ["b", "a"] }, spec: { volumes: [{ name: "v", $retainKeys: ["name", "hostPath"], hostPath: { path: "/tmp" } }] } }, "Pod") as ReturnType<typeof live>;
  assert.deepEqual(out.spec.volumes, [{ name: "v", hostPath: { path: "/tmp" } }]);
  assert.deepEqual(out.metadata.finalizers, ["a", "b"]);
  const removed = strategicMergePatch(out, { metadata: { "$deleteFromPrimitiveList/finalizers": ["a"] } }, "Pod") as ReturnType<typeof live>;
  assert.deepEqual(removed.metadata.finalizers, ["b"]);
});

test("the kubelet's status patch merges conditions by type; the original is left alone", () => {
  const pod = { ...live(), status: { phase: "Pending", conditions: [{ type: "PodScheduled", status: "True" }, { type: "Ready", status: "False" }] } };
  const before = JSON.stringify(pod);
  const out = strategicMergePatch(pod, { status: {
    "$setElementOrder/conditions": [{ type: "Ready" }, { type: "PodScheduled" }, { type: "Initialized" }],
    conditions: [{ type: "Ready", status: "True" }, { type: "Initialized", status: "True" }], phase: "Running",
  } }, "Pod") as { status: { phase: string; conditions: { type: string; status: string }[] } };
  assert.equal(out.status.phase, "Running");
  assert.deepEqual(out.status.conditions, [{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True" }, { type: "Initialized", status: "True" }]);
  assert.equal(JSON.stringify(pod), before);
});

test("bad strategic patches are PatchErrors with the status the API server would give", () => {
  assert.throws(() => strategicMergePatch(live(), { spec: { containers: [{ image: "x" }] } }, "Pod"),
    (e: unknown) => e instanceof PatchError && e.status === 422 && /does not contain declared merge key: name/.test(e.message));
  assert.throws(() => strategicMergePatch(live(), [1], "Pod"), (e: unknown) => e instanceof PatchError && e.status === 400);
  assert.throws(() => strategicMergePatch(live(), { metadata: { $patch: "explode" } }, "Pod"), (e: unknown) => e instanceof PatchError && e.status === 400);
});

test("JSON merge patch follows the RFC 7386 examples", () => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: "b" }, { a: "c" }, { a: "c" }], [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }], [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }], [{ a: ["b"] }, { a: "c" }, { a: "c" }], [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }], [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]], [{ a: "b" }, ["c"], ["c"]], [{ a: "foo" }, null, null], [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }], [[1, 2], { a: "b", c: null }, { a: "b" }], [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [orig, patch, want] of cases) assert.deepEqual(jsonMergePatch(orig, patch), want, JSON.stringify([orig, patch]));
});

test("JSON patch: the RFC 6902 operations", () => {
  const doc = { foo: "bar", baz: [1, 2], q: { r: 1 } };
  assert.deepEqual(jsonPatch(doc, [{ op: "add", path: "/baz/1", value: 9 }, { op: "add", path: "/baz/-", value: 3 }, { op: "add", path: "/n", value: { m: 1 } }]),
    { foo: "bar", baz: [1, 9, 2, 3], q: { r: 1 }, n: { m: 1 } });
  assert.deepEqual(jsonPatch(doc, [{ op: "remove", path: "/baz/0" }, { op: "replace", path: "/foo", value: "x" }]), { foo: "x", baz: [2], q: { r: 1 } });
  assert.deepEqual(jsonPatch(doc, [{ op: "move", from: "/q/r", path: "/r" }, { op: "copy", from: "/foo", path: "/q/f" }]), { foo: "bar", baz: [1, 2], q: { f: "bar" }, r: 1 });
  assert.deepEqual(jsonPatch({ "a/b": 1, "m~n": 2 }, [{ op: "replace", path: "/a~1b", value: 3 }, { op: "test", path: "/m~0n", value: 2 }]), { "a/b": 3, "m~n": 2 });
  assert.deepEqual(jsonPatch({ metadata: { labels: { a: "1" } } }, [{ op: "add", path: "/metadata/labels/b", value: "2" }]), { metadata: { labels: { a: "1", b: "2" } } });
  assert.deepEqual(doc, { foo: "bar", baz: [1, 2], q: { r: 1 } });
});

test("JSON patch errors read as kube-apiserver's", () => {
  const fails = (ops: unknown, message: string, status = 422): void => {
    assert.throws(() => jsonPatch({ a: { b: 1 }, l: [1] }, ops), (e: unknown) => e instanceof PatchError && e.status === status && e.message === message, message);
  };
  fails({ op: "add" }, "json: cannot unmarshal object into Go value of type jsonpatch.Patch", 400);
  fails([{ op: "test", path: "/a/b", value: 2 }], "testing value /a/b failed: test failed");
  fails([{ op: "remove", path: "/a/c" }], "Unable to remove nonexistent key: c: missing value");
  fails([{ op: "replace", path: "/a/c", value: 1 }], "replace operation does not apply: doc is missing key: /a/c: missing value");
  fails([{ op: "add", path: "/x/y", value: 1 }], "add operation does not apply: doc is missing path: \"/x/y\": missing value");
  fails([{ op: "add", path: "/l/5", value: 1 }], "Unable to access invalid index: 5: invalid index referenced");
  fails([{ op: "frob", path: "/a" }], "Unexpected kind: frob");
});
