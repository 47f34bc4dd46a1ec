import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import type { KubeObject, Pod } from "../../../src/api/index.js";
import { setDefaultsObject, setDefaultsPod } from "../../../src/api/index.js";
import {
  fieldErrorString, invalidMessage, invalidStatus, strictDecodingError, unknownFields, validateObject,
} from "../../../src/apiserver/validation/index.js";
import { tutorialPodPath } from "../../helpers/tutorial-pods.js";

const seed = (name: "shared-volume-pod" | "network-test-pod"): Pod => parse(readFileSync(tutorialPodPath(`${name}.yaml`), "utf8")) as Pod;
const defaulted = (p: Pod): Pod => { p.metadata.namespace ??= "default"; setDefaultsPod(p); return p; };
const pod = (over: Partial<Pod["spec"]> = {}, meta: Partial<Pod["metadata"]> = {}): Pod =>
  defaulted({ apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "default", ...meta }, spec: { containers: [{ name: "a", image: "nginx" }], ...over } });
const errs = (o: KubeObject, old?: KubeObject, resource = "pods"): string[] => validateObject(resource, o, old).map(fieldErrorString);

test("the seed pods are valid once defaulted", () => {
  assert.deepEqual(errs(defaulted(seed("network-test-pod"))), []);
  assert.deepEqual(errs(defaulted(seed("shared-volume-pod"))), []);
});

test("a container without an image: Required value, and the 422 message kube-apiserver gives", () => {
  const p = pod({ containers: [{ name: "a" }] });
  const e = validateObject("pods", p);
  assert.deepEqual(e, [{ type: "FieldValueRequired", field: "spec.containers[0].image", message: "Required value" }]);
  assert.equal(invalidMessage("Pod", "web", e), 'Pod "web" is invalid: spec.containers[0].image: Required value');
  const status = invalidStatus("Pod", "web", e);
  assert.equal(status.code, 422);
  assert.equal(status.reason, "Invalid");
  assert.deepEqual(status.details, { name: "web", kind: "Pod", causes: [{ reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" }] });
});

test("names are DNS subdomains (pods) and labels (containers), with the real messages", () => {
  assert.deepEqual(errs(pod({}, { name: "Web_1" })), [
    "metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  ]);
  assert.deepEqual(errs(pod({ containers: [{ name: "Nginx", image: "x" }] })), [
    "spec.containers[0].name: Invalid value: \"Nginx\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.deepEqual(errs(pod({}, { name: "" })), ["metadata.name: Required value: name or generateName is required"]);
  assert.deepEqual(errs(pod({}, { name: "", generateName: "web-" })), []);
  assert.deepEqual(errs(pod({}, { name: "a".repeat(254) })), ["metadata.name: Invalid value: \"" + "a".repeat(254) + "\": must be no more than 253 characters"]);
  const labelErrs = errs(pod({}, { labels: { "app!": "x y" } }));
  assert.equal(labelErrs.length, 2);
  assert.match(labelErrs[0] ?? "", /^metadata\.labels: Invalid value: "app!": name part must consist of alphanumeric characters/);
  assert.match(labelErrs[1] ?? "", /^metadata\.labels: Invalid value: "x y": a valid label must be an empty string/);
});

test("duplicate names, bad ports, unknown volumes and unsupported values", () => {
  const p = pod({
    restartPolicy: "Sometimes" as never,
    containers: [
      { name: "a", image: "x", ports: [{ containerPort: 70000, protocol: "TCP", name: "http" }, { containerPort: 81, protocol: "TCP", name: "http" }], volumeMounts: [{ name: "data", mountPath: "/d" }] },
      { name: "a", image: "y", imagePullPolicy: "Sometimes" as never },
    ],
  });
  assert.deepEqual(errs(p), [
    "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
    "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
    "spec.containers[0].volumeMounts[0].name: Not found: \"data\"",
    "spec.containers[1].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
    "spec.containers[1].name: Duplicate value: \"a\"",
    "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
  ]);
  const msg = invalidMessage("Pod", "web", validateObject("pods", p));
  assert.match(msg, /^Pod "web" is invalid: \[spec\.containers\[0\]\.ports\[0\]\.containerPort: Invalid value: 70000: .*, spec\.restartPolicy: Unsupported value: "Sometimes": .*\]$/);
});

test("volumes need exactly one source; resources need requests within limits; probes need a handler", () => {
  const p = pod({
    volumes: [{ name: "v", emptyDir: {}, hostPath: { path: "/x", type: "" } }, { name: "w", configMap: { defaultMode: 0o1000 } }],
    containers: [{ name: "a", image: "x", resources: { limits: { cpu: "1" }, requests: { cpu: "2", memory: "lots" } }, livenessProbe: { periodSeconds: 1 } }],
  });
  assert.deepEqual(errs(p), [
    "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type",
    "spec.volumes[1].configMap.name: Required value",
    "spec.volumes[1].configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive",
    "spec.containers[0].resources.requests[memory]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1",
    "spec.containers[0].livenessProbe: Required value: must specify a handler type",
  ]);
});

test("image whitespace, env names and tolerations", () => {
  const p = pod({
    containers: [{ name: "a", image: " nginx", env: [{ name: "A=B", value: "1" }] }],
    tolerations: [{ key: "k", operator: "Exists", value: "v" }, { key: "t", operator: "Equal", value: "x", tolerationSeconds: 5, effect: "NoSchedule" }],
  });
  assert.deepEqual(errs(p), [
    "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace",
    "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='",
    "spec.tolerations[0].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
    "spec.tolerations[1].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set",
  ]);
});

test("pod updates may change images, activeDeadlineSeconds and add tolerations, nothing else", () => {
  const old = pod();
  const image = structuredClone(old);
  (image.spec.containers[0] as { image: string }).image = "nginx:1.28";
  image.spec.tolerations = [...(image.spec.tolerations ?? []), { key: "x", operator: "Exists" }];
  image.metadata.labels = { new: "label" };
  assert.deepEqual(errs(image, old), []);
  const policy = structuredClone(old);
  policy.spec.restartPolicy = "Never";
  const e = validateObject("pods", policy, old);
  assert.equal(e.length, 1);
  assert.equal(e[0]?.field, "spec");
  assert.ok(e[0]?.message.startsWith("Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"), e[0]?.message);
  assert.match(e[0]?.message ?? "", /- \tRestartPolicy: "Always",\n\+ \tRestartPolicy: "Never",/);
  const more = structuredClone(old);
  more.spec.containers.push({ name: "b", image: "x", imagePullPolicy: "Always", terminationMessagePolicy: "File" });
  assert.deepEqual(errs(more, old), ["spec.containers: Forbidden: pod updates may not add or remove containers"]);
  const renamed = structuredClone(old);
  renamed.metadata.name = "other";
  assert.deepEqual(errs(renamed, old), ["metadata.name: Invalid value: \"other\": field is immutable"]);
  const blank = structuredClone(old);
  (blank.spec.containers[0] as { image: string }).image = "";
  assert.deepEqual(errs(blank, old), ["spec.containers[0].image: Required value"]);
});

test("status updates check the status, not the spec", () => {
  const old = pod();
  const next = structuredClone(old);
  next.status = { phase: "Running", conditions: [{ type: "Ready", status: "True" }] };
  assert.deepEqual(validateObject("pods", next, old, "status"), []);
  next.status.phase = "Dancing" as never;
  assert.deepEqual(validateObject("pods", next, old, "status").map(fieldErrorString),
    ["status.phase: Unsupported value: \"Dancing\": supported values: \"Pending\", \"Running\", \"Succeeded\", \"Failed\", \"Unknown\""]);
});

test("secrets, configmaps, namespaces, leases", () => {
  const secret = { metadata: { name: "regcred", namespace: "default" }, type: "kubernetes.io/dockerconfigjson", data: { "bad key": "e30=" } } as KubeObject;
  assert.deepEqual(errs(secret, undefined, "secrets"), [
    "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    "data[.dockerconfigjson]: Required value",
  ]);
  const immutable = { metadata: { name: "s", namespace: "default" }, type: "Opaque", immutable: true, data: { a: "YQ==" } } as KubeObject;
  const changed = { ...structuredClone(immutable), data: { a: "Yg==" } } as KubeObject;
  assert.deepEqual(errs(changed, immutable, "secrets"), ["data: Forbidden: field is immutable when `immutable` is set"]);
  const ns = { metadata: { name: "Team" } } as KubeObject;
  setDefaultsObject("namespaces", ns);
  assert.match(errs(ns, undefined, "namespaces").join("|"), /^metadata\.name: Invalid value: "Team": a lowercase RFC 1123 label must/);
  assert.deepEqual(errs({ metadata: { name: "n", namespace: "default" } }, undefined, "nodes"), ["metadata.namespace: Forbidden: not allowed on this type"]);
  assert.deepEqual(errs({ metadata: { name: "node1", namespace: "kube-node-lease" }, spec: { leaseDurationSeconds: 0 } } as KubeObject, undefined, "leases"),
    ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]);
  assert.deepEqual(errs({ metadata: { name: "cm", namespace: "default" }, data: { a: "1" }, binaryData: { a: "AA==" } } as KubeObject, undefined, "configmaps"),
    ["binaryData[a]: Invalid value: \"a\": duplicate of key present in data"]);
});

test("unknown fields are found through the schema and named as the strict decoder does", () => {
  const body = {
    apiVersion: "v1", kind: "Pod", metadata: { name: "web", labels: { any: "key" }, colour: "red" },
    spec: { containers: [{ name: "a", imag: "nginx", resources: { limits: { cpu: "1" } } }], volumes: [{ name: "v", emptyDir: { size: 1 } }] },
    extra: true,
  };
  const fields = unknownFields("pods", body);
  assert.deepEqual(fields, ["metadata.colour", "spec.containers[0].imag", "spec.volumes[0].emptyDir.size", "extra"]);
  assert.equal(strictDecodingError(["spec.containers[0].imag"]), 'strict decoding error: unknown field "spec.containers[0].imag"');
  assert.deepEqual(unknownFields("pods", defaulted(seed("shared-volume-pod"))), []);
  assert.deepEqual(unknownFields("secrets", { metadata: { name: "s" }, data: { x: "" }, type: "Opaque", stringData: {} }), []);
  assert.deepEqual(unknownFields("events", { apiVersion: "events.k8s.io/v1", metadata: {}, regarding: {}, note: "x", involvedObject: {} }), ["involvedObject"]);
});

test("a binding may set nodeName; a plain update may not", () => {
  const old = pod();
  const bound = structuredClone(old);
  bound.spec.nodeName = "node1";
  assert.deepEqual(validateObject("pods", bound, old, "binding"), []);
  assert.equal(validateObject("pods", bound, old)[0]?.field, "spec");
  bound.spec.nodeName = "Node_1";
  assert.match(fieldErrorString(validateObject("pods", bound, old, "binding")[0] ?? { type: "FieldValueInvalid", field: "", message: "" }), /^target\.name: Invalid value: "Node_1": a lowercase RFC 1123 subdomain/);
});

test("unknownFields reads events in the shape their group names", () => {
  const v1 = { metadata: { name: "e" }, regarding: { kind: "Pod", name: "web" }, note: "n", reportingController: "c", eventTime: "2026-12-03T10:00:00.000000Z" };
  assert.deepEqual(unknownFields("events", v1), []);
  assert.deepEqual(unknownFields("events", v1, "events.k8s.io"), []);
  assert.deepEqual(unknownFields("events", v1, ""), ["regarding", "note", "reportingController"]);
  assert.deepEqual(unknownFields("events", { metadata: {}, involvedObject: {}, message: "m", count: 1 }), []);
  assert.deepEqual(unknownFields("leases", { metadata: {}, spec: { holderIdentity: "n", renewTime: "x", bogus: 1 } }, "coordination.k8s.io"), ["spec.bogus"]);
});
