import assert from "node:assert/strict";
import { test } from "node:test";
import type { Container } from "../../../src/api/index.js";
import { CreateContainerConfigError, makeEnvironmentVariables } from "../../../src/kubelet/container-config/index.js";
import { b64, pod, sources } from "./fixtures.js";

const cm = { metadata: { name: "cfg", namespace: "default" }, data: { COLOR: "red", SIZE: "L", "bad=key": "x" } };
const secret = { metadata: { name: "s", namespace: "default" }, data: { PASSWORD: b64("s3cr3t"), COLOR: b64("blue") } };
const src = sources([cm], [secret]);

async function env(c: Partial<Container>, extra: { serviceEnv?: Map<string, string> } = {}): Promise<Map<string, string>> {
  const p = pod(c);
  return makeEnvironmentVariables({ pod: p, container: p.spec.containers[0] as Container, sources: src, nodeName: "node1", nodeIP: "192.168.1.10", podIP: "10.88.0.5", podIPs: ["10.88.0.5", "fd00::5"], ...extra });
}

async function envError(c: Partial<Container>): Promise<string> {
  try {
    await env(c);
  } catch (err) {
    assert.ok(err instanceof CreateContainerConfigError);
    assert.equal(err.reason, "CreateContainerConfigError");
    return err.message;
  }
  assert.fail("no error");
}

test("envFrom in order with prefixes (later sources win, invalid keys skipped), then env expanded against them", async () => {
  const got = await env({
    envFrom: [{ configMapRef: { name: "cfg" } }, { secretRef: { name: "s" } }, { prefix: "CM_", configMapRef: { name: "cfg" } }, { configMapRef: { name: "nope", optional: true } }],
    env: [
      { name: "GREETING", value: "color is $(COLOR), size $(CM_SIZE), later $(LATER), escaped $$(COLOR)" },
      { name: "LATER", value: "x" },
      { name: "EMPTY" },
      { name: "SELF", value: "$(GREETING)!" },
    ],
  });
  assert.deepEqual(Object.fromEntries(got), {
    COLOR: "blue", SIZE: "L", PASSWORD: "s3cr3t", CM_COLOR: "red", CM_SIZE: "L",
    GREETING: "color is blue, size L, later $(LATER), escaped $(COLOR)", LATER: "x", EMPTY: "",
    SELF: "color is blue, size L, later $(LATER), escaped $(COLOR)!",
  });
});

test("valueFrom fieldRef, resourceFieldRef and key refs are read, never expanded", async () => {
  const got = await env({
    resources: { limits: { cpu: "500m", memory: "128Mi" } },
    env: [
      { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      { name: "UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
      { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: "OWNER", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['owner']" } } },
      { name: "LABELS", valueFrom: { fieldRef: { fieldPath: "metadata.labels" } } },
      { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
      { name: "SA", valueFrom: { fieldRef: { fieldPath: "spec.serviceAccountName" } } },
      { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      { name: "POD_IPS", valueFrom: { fieldRef: { fieldPath: "status.podIPs" } } },
      { name: "HOST_IP", valueFrom: { fieldRef: { fieldPath: "status.hostIP" } } },
      { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1m" } } },
      { name: "MEM", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
      { name: "COLOR", valueFrom: { configMapKeyRef: { name: "cfg", key: "COLOR" } } },
      { name: "PW", valueFrom: { secretKeyRef: { name: "s", key: "PASSWORD" } } },
      { name: "OPT", valueFrom: { configMapKeyRef: { name: "cfg", key: "MISSING", optional: true } } },
      { name: "OPT2", valueFrom: { secretKeyRef: { name: "nope", key: "K", optional: true } } },
      { name: "REF", valueFrom: { configMapKeyRef: { name: "cfg", key: "SIZE" } } },
    ],
  });
  assert.deepEqual(Object.fromEntries(got), {
    NAME: "web", NS: "default", UID: "1234", APP: "web", OWNER: "me", LABELS: 'app="web"\ntier="front"', NODE: "node1", SA: "default",
    POD_IP: "10.88.0.5", POD_IPS: "10.88.0.5,fd00::5", HOST_IP: "192.168.1.10", CPU: "500", MEM: "128",
    COLOR: "red", PW: "s3cr3t", REF: "L",
  });
});

test("service env is appended unless a variable overrides it, and env values can refer to it", async () => {
  const got = await env({ env: [{ name: "KUBERNETES_SERVICE_HOST", value: "mine" }, { name: "URL", value: "https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)" }] },
    { serviceEnv: new Map([["KUBERNETES_SERVICE_HOST", "10.96.0.1"], ["KUBERNETES_SERVICE_PORT", "443"]]) });
  assert.deepEqual(Object.fromEntries(got), { KUBERNETES_SERVICE_HOST: "mine", URL: "https://mine:443", KUBERNETES_SERVICE_PORT: "443" });
});

test("missing sources and keys give the kubelet's texts", async () => {
  assert.equal(await envError({ envFrom: [{ configMapRef: { name: "nope" } }] }), 'configmap "nope" not found');
  assert.equal(await envError({ envFrom: [{ secretRef: { name: "nope" } }] }), 'secret "nope" not found');
  assert.equal(await envError({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "nope", key: "K" } } }] }), 'configmap "nope" not found');
  assert.equal(await envError({ env: [{ name: "X", valueFrom: { configMapKeyRef: { name: "cfg", key: "K" } } }] }), "couldn't find key K in ConfigMap default/cfg");
  assert.equal(await envError({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "s", key: "K" } } }] }), "couldn't find key K in Secret default/s");
  assert.equal(await envError({ env: [{ name: "X", valueFrom: { secretKeyRef: { name: "nope", key: "K" } } }] }), 'secret "nope" not found');
  assert.equal(await envError({ env: [{ name: "X", valueFrom: { fieldRef: { fieldPath: "spec.bogus" } } }] }), "unsupported fieldPath: spec.bogus");
});
