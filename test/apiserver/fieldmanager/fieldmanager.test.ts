import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject, Pod } from "../../../src/api/index.js";
import { ApplyConflictError, FieldSet, serverSideApply, updateManagedFields } from "../../../src/apiserver/fieldmanager/index.js";

const T1 = "2026-12-03T12:00:00Z";
const T2 = "2026-12-03T12:05:00Z";

function created(): Pod {
  const pod: Pod = {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "web", namespace: "default", uid: "u1", labels: { app: "web" }, annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}" } },
    spec: { containers: [{ name: "a", image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }], resources: {} }], restartPolicy: "Always" },
    status: { phase: "Pending" },
  };
  updateManagedFields(undefined, pod, "kubectl-client-side-apply", "Update", undefined, T1);
  return pod;
}

test("a create records the writer's fields in FieldsV1, leaving out identity and status", () => {
  const pod = created();
  assert.deepEqual(pod.metadata.managedFields, [{
    manager: "kubectl-client-side-apply", operation: "Update", apiVersion: "v1", time: T1, fieldsType: "FieldsV1",
    fieldsV1: {
      "f:metadata": { "f:annotations": { ".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {} }, "f:labels": { ".": {}, "f:app": {} } },
      "f:spec": {
        "f:containers": { 'k:{"name":"a"}': { ".": {}, "f:image": {}, "f:name": {}, "f:ports": { ".": {}, 'k:{"containerPort":80,"protocol":"TCP"}': { ".": {}, "f:containerPort": {}, "f:protocol": {} } }, "f:resources": {} } },
        "f:restartPolicy": {},
      },
    },
  }]);
});

test("an Update takes the fields it changes from other managers; status writes do not take spec", () => {
  const old = created();
  const next = structuredClone(old);
  (next.spec.containers[0] as { image: string }).image = "nginx:1.28";
  updateManagedFields(old, next, "kubectl-edit", "Update", undefined, T2);
  const byName = Object.fromEntries((next.metadata.managedFields ?? []).map((m) => [m.manager, FieldSet.fromFieldsV1(m.fieldsV1)]));
  assert.ok(byName["kubectl-edit"]?.has(["f:spec", "f:containers", 'k:{"name":"a"}', "f:image"]));
  assert.ok(!byName["kubectl-client-side-apply"]?.has(["f:spec", "f:containers", 'k:{"name":"a"}', "f:image"]));
  assert.ok(byName["kubectl-client-side-apply"]?.has(["f:spec", "f:containers", 'k:{"name":"a"}', "f:name"]));
  const status = structuredClone(next);
  status.status = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
  updateManagedFields(next, status, "kubelet", "Update", "status", T2);
  const kubelet = status.metadata.managedFields?.find((m) => m.manager === "kubelet");
  assert.equal(kubelet?.subresource, "status");
  assert.deepEqual(kubelet?.fieldsV1, { "f:status": { "f:conditions": { ".": {}, 'k:{"type":"Ready"}': { ".": {}, "f:status": {}, "f:type": {} } }, "f:phase": {} } });
  const same = structuredClone(status);
  updateManagedFields(status, same, "noop", "Update", undefined, T2);
  assert.ok(!same.metadata.managedFields?.some((m) => m.manager === "noop"));
});

const applyBody = (image: string, extra: object = {}): KubeObject => ({
  apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default" },
  spec: { containers: [{ name: "a", image, ...extra }] },
} as KubeObject);

test("apply over another manager's field is a conflict with kube-apiserver's message; force takes it", () => {
  const live = created();
  assert.throws(() => serverSideApply(live, applyBody("nginx:1.28"), { manager: "kubectl", force: false, now: T2, kind: "Pod" }), (e: unknown) => {
    assert.ok(e instanceof ApplyConflictError);
    assert.equal(e.message, 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .spec.containers[name="a"].image');
    assert.equal(e.status.code, 409);
    assert.equal(e.status.reason, "Conflict");
    assert.deepEqual(e.status.details?.causes, [{ reason: "FieldManagerConflict", message: 'conflict with "kubectl-client-side-apply" using v1', field: '.spec.containers[name="a"].image' }]);
    return true;
  });
  const out = serverSideApply(live, applyBody("nginx:1.28"), { manager: "kubectl", force: true, now: T2, kind: "Pod" }) as Pod;
  assert.equal(out.spec.containers[0]?.image, "nginx:1.28");
  assert.deepEqual(out.spec.containers[0]?.ports, [{ containerPort: 80, protocol: "TCP" }]);
  const sets = Object.fromEntries((out.metadata.managedFields ?? []).map((m) => [`${m.manager}/${m.operation}`, FieldSet.fromFieldsV1(m.fieldsV1)]));
  const image = ["f:spec", "f:containers", 'k:{"name":"a"}', "f:image"];
  assert.ok(sets["kubectl/Apply"]?.has(image));
  assert.ok(!sets["kubectl-client-side-apply/Update"]?.has(image));
  assert.equal(out.metadata.managedFields?.[0]?.operation, "Apply");
});

test("applying the value another manager set shares it; two conflicts are listed by manager", () => {
  const live = created();
  const shared = serverSideApply(live, applyBody("nginx:1.27"), { manager: "kubectl", force: false, now: T2, kind: "Pod" });
  assert.equal(shared.metadata.managedFields?.length, 2);
  const body = applyBody("nginx:1.28");
  (body as Pod).spec.restartPolicy = "Never";
  assert.throws(() => serverSideApply(live, body, { manager: "kubectl", force: false, now: T2, kind: "Pod" }),
    (e: unknown) => e instanceof ApplyConflictError && e.message === 'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using v1:\n- .spec.containers[name="a"].image\n- .spec.restartPolicy');
});

test("fields a manager stops applying are removed unless another manager owns them", () => {
  const first = serverSideApply(undefined, applyBody("busybox", { command: ["sleep", "1d"], workingDir: "/w" }), { manager: "kubectl", force: false, now: T1, kind: "Pod" }) as Pod;
  assert.deepEqual(first.spec.containers[0], { name: "a", image: "busybox", command: ["sleep", "1d"], workingDir: "/w" });
  // Someone else sets workingDir too.
  const edited = structuredClone(first);
  (edited.spec.containers[0] as { workingDir: string }).workingDir = "/x";
  updateManagedFields(first, edited, "editor", "Update", undefined, T2);
  const again = serverSideApply(edited, applyBody("busybox"), { manager: "kubectl", force: false, now: T2, kind: "Pod" }) as Pod;
  assert.deepEqual(again.spec.containers[0], { name: "a", image: "busybox", workingDir: "/x" });
  const gone = serverSideApply(again, { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default" }, spec: { containers: [] } } as KubeObject,
    { manager: "kubectl", force: false, now: T2, kind: "Pod" }) as Pod;
  assert.deepEqual(gone.spec.containers.map((c) => c.name), ["a"]);
});

test("an object nobody tracked belongs to before-first-apply", () => {
  const live = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "default" }, data: { a: "1" } } as KubeObject;
  assert.throws(() => serverSideApply(live, { ...live, data: { a: "2" } } as KubeObject, { manager: "kubectl", force: false, now: T1, kind: "ConfigMap" }),
    (e: unknown) => e instanceof ApplyConflictError && e.message.includes('conflict with "before-first-apply" using v1: .data.a'));
});

test("the API server's Update step after an apply keeps the apply's record; clients may reset managedFields", () => {
  const live = created();
  const applied = serverSideApply(live, applyBody("nginx:1.28"), { manager: "kubectl", force: true, now: T2, kind: "Pod" });
  const recorded = structuredClone(applied.metadata.managedFields);
  updateManagedFields(live, applied, "kubectl", "Update", undefined, T2);
  assert.deepEqual(applied.metadata.managedFields, recorded);
  const reset = structuredClone(live);
  reset.metadata.managedFields = [{}];
  reset.metadata.labels = { app: "web", extra: "1" };
  updateManagedFields(live, reset, "kubectl-label", "Update", undefined, T2);
  assert.deepEqual(reset.metadata.managedFields?.map((m) => m.manager), ["kubectl-label"]);
  assert.deepEqual(reset.metadata.managedFields?.[0]?.fieldsV1, { "f:metadata": { "f:labels": { "f:extra": {} } } });
});

test("an apply that changes nothing returns the live object untouched", () => {
  const first = serverSideApply(undefined, applyBody("busybox"), { manager: "kubectl", force: false, now: T1, kind: "Pod" });
  first.metadata.resourceVersion = "7";
  const again = serverSideApply(first, applyBody("busybox"), { manager: "kubectl", force: false, now: T2, kind: "Pod" });
  assert.deepEqual(again, first);
  const changed = serverSideApply(first, applyBody("busybox:1.36"), { manager: "kubectl", force: false, now: T2, kind: "Pod" });
  assert.equal(changed.metadata.managedFields?.[0]?.time, T2);
});
