/**
 * Bodies with values of the wrong JSON type are refused before defaulting or validation reads
 * them, with kube-apiserver's decoder wording: 400 on create and update, 422 on the patch field
 * for a patch whose result does not decode. Nothing of the kind is stored.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeTypeError } from "../../src/apiserver/validation/index.js";
import { call, pod, startServer } from "./server-helper.js";

const NS = "/api/v1/namespaces/default";
const withContainer = (c: Record<string, unknown>): Record<string, unknown> =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "alpine", ...c }] } });

test("decodeTypeError names the value's JSON kind, the struct and JSON path of the field, and its Go type", () => {
  const cases: [unknown, string][] = [
    [withContainer({ command: "sleep 1" }), "json: cannot unmarshal string into Go struct field Container.spec.containers.command of type []string"],
    [withContainer({ image: ["alpine"] }), "json: cannot unmarshal array into Go struct field Container.spec.containers.image of type string"],
    [{ metadata: { name: "p" }, spec: { containers: { name: "c" } } }, "json: cannot unmarshal object into Go struct field PodSpec.spec.containers of type []v1.Container"],
    [{ spec: { containers: ["c"] } }, "json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type v1.Container"],
    [withContainer({ ports: [{ containerPort: "eighty" }] }), "json: cannot unmarshal string into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32"],
    [withContainer({ ports: [{ containerPort: 80.5 }] }), "json: cannot unmarshal number 80.5 into Go struct field ContainerPort.spec.containers.ports.containerPort of type int32"],
    [{ spec: { terminationGracePeriodSeconds: "30", containers: [] } }, "json: cannot unmarshal string into Go struct field PodSpec.spec.terminationGracePeriodSeconds of type int64"],
    [{ metadata: { labels: { app: 1 } } }, "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string"],
    [{ spec: "x" }, "json: cannot unmarshal string into Go struct field Pod.spec of type v1.PodSpec"],
    [withContainer({ stdin: "yes" }), "json: cannot unmarshal string into Go struct field Container.spec.containers.stdin of type bool"],
    [withContainer({ resources: { limits: { memory: true } } }), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    [withContainer({ livenessProbe: { httpGet: { port: { n: 1 } } } }), "json: cannot unmarshal object into Go struct field HTTPGetAction.spec.containers.livenessProbe.httpGet.port of type int32"],
  ];
  for (const [body, want] of cases) assert.equal(decodeTypeError("pods", body), want);
  // Quantities are strings or numbers; int-or-string ports either; null is any field's zero value.
  assert.equal(decodeTypeError("pods", withContainer({ resources: { limits: { memory: "64Mi", cpu: 0.5 } }, livenessProbe: { httpGet: { port: "http" } }, command: null })), undefined);
  assert.equal(decodeTypeError("configmaps", { metadata: { name: "c" }, data: { a: 1 } }), "json: cannot unmarshal number into Go struct field ConfigMap.data of type string");
});

test("a create or update with a wrong-typed field is a 400 decode error and stores nothing", async (t) => {
  const s = await startServer(t);
  const cases: [Record<string, unknown>, string][] = [
    [withContainer({ command: "sleep 1" }), "Container.spec.containers.command of type []string"],
    [withContainer({ image: ["alpine"] }), "Container.spec.containers.image of type string"],
    [{ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: { name: "c" } } }, "PodSpec.spec.containers of type []v1.Container"],
    [withContainer({ ports: [{ containerPort: "eighty" }] }), "ContainerPort.spec.containers.ports.containerPort of type int32"],
  ];
  for (const [body, field] of cases) {
    const r = await call(s.url, "POST", `${NS}/pods`, body);
    assert.deepEqual([r.status, r.body.reason], [400, "BadRequest"], JSON.stringify(r.body));
    const want = "Pod in version \"v1\" cannot be handled as a Pod: json: cannot unmarshal";
    assert.ok(String(r.body.message).startsWith(want) && String(r.body.message).endsWith(field), String(r.body.message));
  }
  assert.equal((await call(s.url, "GET", `${NS}/pods/p`)).status, 404);
  // Strict field validation does not hide a type error: the decode error wins.
  const strict = await call(s.url, "POST", `${NS}/pods?fieldValidation=Strict`, withContainer({ command: "x", imag: "y" }));
  assert.match(String(strict.body.message), /cannot unmarshal string into Go struct field Container\.spec\.containers\.command/);
  const cm = await call(s.url, "POST", `${NS}/configmaps`, { metadata: { name: "c" }, data: { a: 1 } });
  assert.deepEqual([cm.status, cm.body.message], [400, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string']);
  const lease = await call(s.url, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", { metadata: { name: "n" }, spec: { leaseDurationSeconds: "40" } });
  assert.deepEqual([lease.status, lease.body.message], [400, 'Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32']);
  const ev = await call(s.url, "POST", "/apis/events.k8s.io/v1/namespaces/default/events", { metadata: { name: "e" }, eventTime: "2026-12-03T00:00:00.000000Z", note: ["x"] });
  assert.deepEqual([ev.status, ev.body.message], [400, 'Event in version "v1" cannot be handled as a Event: json: cannot unmarshal array into Go struct field Event.note of type string']);
  await call(s.url, "POST", `${NS}/pods`, pod("web"));
  const cur = (await call(s.url, "GET", `${NS}/pods/web`)).body;
  const put = await call(s.url, "PUT", `${NS}/pods/web`, { ...cur, spec: { ...(cur.spec as object), containers: "x" } });
  assert.deepEqual([put.status, put.body.message], [400, 'Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container']);
  const apply = await call(s.url, "PATCH", `${NS}/pods/applied?fieldManager=kubectl`, withContainer({ command: "sleep 1" }), { "content-type": "application/apply-patch+yaml" });
  assert.equal(apply.status, 400);
  assert.match(String(apply.body.message), /cannot be handled as a Pod: json: cannot unmarshal string into Go struct field Container\.spec\.containers\.command of type \[\]string$/);
});

test("a patch whose result has a wrong-typed field is a 422 on the patch, for every patch type; the object is unchanged", async (t) => {
  const s = await startServer(t);
  await call(s.url, "POST", `${NS}/pods`, pod("web"));
  const before = (await call(s.url, "GET", `${NS}/pods/web`)).body;
  const smp = await call(s.url, "PATCH", `${NS}/pods/web`, { spec: { containers: "x" } }, { "content-type": "application/strategic-merge-patch+json" });
  assert.deepEqual([smp.status, smp.body.reason], [422, "Invalid"], JSON.stringify(smp.body));
  assert.equal(smp.body.message, ' "" is invalid: patch: Invalid value: "map[spec:map[containers:x]]": json: cannot unmarshal string into Go struct field PodSpec.spec.containers of type []v1.Container');
  const merge = await call(s.url, "PATCH", `${NS}/pods/web`, { metadata: { labels: { a: 1 } } }, { "content-type": "application/merge-patch+json" });
  assert.equal(merge.status, 422);
  assert.match(String(merge.body.message), /^ "" is invalid: patch: Invalid value: "\{.*\}": json: cannot unmarshal number into Go struct field ObjectMeta\.metadata\.labels of type string$/);
  const jp = await call(s.url, "PATCH", `${NS}/pods/web`, [{ op: "replace", path: "/spec/containers/0/image", value: ["alpine"] }], { "content-type": "application/json-patch+json" });
  assert.equal(jp.status, 422);
  assert.match(String(jp.body.message), /json: cannot unmarshal array into Go struct field Container\.spec\.containers\.image of type string$/);
  const st = await call(s.url, "PATCH", `${NS}/pods/web/status`, { status: { phase: 1 } }, { "content-type": "application/merge-patch+json" });
  assert.equal(st.status, 422);
  assert.match(String(st.body.message), /PodStatus\.status\.phase of type string$/);
  const after = (await call(s.url, "GET", `${NS}/pods/web`)).body;
  assert.equal((after.metadata as Record<string, unknown>).resourceVersion, (before.metadata as Record<string, unknown>).resourceVersion);
});
