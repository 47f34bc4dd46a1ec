import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject, Pod } from "../../src/api/index.js";
import { defaultImagePullPolicy, podQOSClass, prepareForCreate, setDefaultsObject, setDefaultsPod } from "../../src/api/index.js";

test("a bare pod gets what kube-apiserver fills in", () => {
  const pod: Pod = { metadata: { name: "web" }, spec: { containers: [{ name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] } };
  setDefaultsPod(pod);
  assert.deepEqual(pod.spec, {
    containers: [{
      name: "nginx", image: "nginx:1.27", ports: [{ containerPort: 80, protocol: "TCP" }], imagePullPolicy: "IfNotPresent",
      terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File", resources: {},
    }],
    dnsPolicy: "ClusterFirst", restartPolicy: "Always", securityContext: {}, terminationGracePeriodSeconds: 30,
    schedulerName: "default-scheduler", enableServiceLinks: true, serviceAccountName: "default", serviceAccount: "default",
    priority: 0, preemptionPolicy: "PreemptLowerPriority",
    tolerations: [
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ],
  });
  assert.deepEqual(pod.status, { phase: "Pending", qosClass: "BestEffort" });
});

test("imagePullPolicy is Always for latest or no tag, else IfNotPresent; set fields are kept", () => {
  const policy = (image: string, given?: "Never"): string | undefined => {
    const pod: Pod = { metadata: {}, spec: { containers: [{ name: "a", image, ...(given ? { imagePullPolicy: given } : {}) }] } };
    setDefaultsPod(pod);
    return pod.spec.containers[0]?.imagePullPolicy;
  };
  assert.equal(policy("alpine"), "Always");
  assert.equal(policy("alpine:latest"), "Always");
  assert.equal(policy("reg:5000/app:latest@sha256:" + "a".repeat(64)), "Always");
  assert.equal(policy("alpine:3.20"), "IfNotPresent");
  assert.equal(policy("alpine@sha256:" + "a".repeat(64)), "IfNotPresent");
  assert.equal(policy("Not A Ref"), "IfNotPresent");
  assert.equal(policy("alpine", "Never"), "Never");
});

test("probes, handlers, volumes and env references get their defaults", () => {
  const pod: Pod = {
    metadata: {},
    spec: {
      hostNetwork: true,
      containers: [{
        name: "a", image: "x:1", ports: [{ containerPort: 8080, protocol: "UDP" }],
        livenessProbe: { httpGet: { port: 80 } }, readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 5 },
        lifecycle: { preStop: { httpGet: { port: 80, path: "/stop" } } },
        env: [{ name: "N", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }, { name: "L", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } }],
      }],
      volumes: [{ name: "e" }, { name: "c", configMap: { name: "cm" } }, { name: "s", secret: { secretName: "s", defaultMode: 0o400 } },
        { name: "h", hostPath: { path: "/tmp" } }, { name: "d", downwardAPI: { items: [{ path: "l", fieldRef: { fieldPath: "metadata.labels" } }] } }],
      tolerations: [{ operator: "Exists" }],
    },
  };
  setDefaultsPod(pod);
  const c = pod.spec.containers[0];
  assert.deepEqual(c?.livenessProbe, { httpGet: { port: 80, path: "/", scheme: "HTTP" }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  assert.equal(c?.readinessProbe?.periodSeconds, 5);
  assert.deepEqual(c?.lifecycle?.preStop?.httpGet, { port: 80, path: "/stop", scheme: "HTTP" });
  assert.deepEqual(c?.ports, [{ containerPort: 8080, protocol: "UDP", hostPort: 8080 }]);
  assert.equal(c?.env?.[0]?.valueFrom?.fieldRef?.apiVersion, "v1");
  assert.equal(c?.env?.[1]?.valueFrom?.resourceFieldRef?.divisor, "0");
  assert.deepEqual(pod.spec.volumes, [
    { name: "e", emptyDir: {} }, { name: "c", configMap: { name: "cm", defaultMode: 420 } }, { name: "s", secret: { secretName: "s", defaultMode: 0o400 } },
    { name: "h", hostPath: { path: "/tmp", type: "" } },
    { name: "d", downwardAPI: { defaultMode: 420, items: [{ path: "l", fieldRef: { fieldPath: "metadata.labels", apiVersion: "v1" } }] } },
  ]);
  // A toleration of every taint already covers both: nothing is added.
  assert.deepEqual(pod.spec.tolerations, [{ operator: "Exists" }]);
});

test("QoS class: BestEffort, Burstable, Guaranteed (limits copied into requests first)", () => {
  const qos = (resources: object[]): string => {
    const pod = { metadata: {}, spec: { containers: resources.map((r, i) => ({ name: `c${i}`, image: "x", resources: r })) } } as Pod;
    setDefaultsPod(pod);
    return pod.status?.qosClass ?? "";
  };
  assert.equal(qos([{}]), "BestEffort");
  assert.equal(qos([{ requests: { cpu: "100m" } }]), "Burstable");
  assert.equal(qos([{ limits: { cpu: "1", memory: "64Mi" } }]), "Guaranteed");
  assert.equal(qos([{ limits: { cpu: "1", memory: "64Mi" }, requests: { cpu: "1000m", memory: "67108864" } }]), "Guaranteed");
  assert.equal(qos([{ limits: { cpu: "1", memory: "64Mi" } }, {}]), "Burstable");
  assert.equal(qos([{ limits: { cpu: "1", memory: "64Mi" }, requests: { cpu: "500m" } }]), "Burstable");
  assert.equal(podQOSClass({ metadata: {}, spec: { containers: [{ name: "a", resources: { requests: { "example.com/gpu": "1" } } }] } }), "BestEffort");
});

test("prepareForCreate resets a new pod's status; other kinds get their own defaults", () => {
  const pod = { metadata: {}, spec: { containers: [] }, status: { phase: "Running", podIP: "1.2.3.4" } } as Pod;
  prepareForCreate("pods", pod);
  assert.deepEqual(pod.status, { phase: "Pending", qosClass: "BestEffort" });
  const secret = { metadata: { name: "s" } } as KubeObject & { type?: string };
  setDefaultsObject("secrets", secret);
  assert.equal(secret.type, "Opaque");
  const ns = { metadata: { name: "team-a" } } as KubeObject;
  setDefaultsObject("namespaces", ns);
  assert.deepEqual(ns, { metadata: { name: "team-a", labels: { "kubernetes.io/metadata.name": "team-a" } }, spec: { finalizers: ["kubernetes"] }, status: { phase: "Active" } });
  const node = { metadata: { name: "n" }, status: { capacity: { cpu: "4" } } } as KubeObject & { status: { allocatable?: object } };
  setDefaultsObject("nodes", node);
  assert.deepEqual(node.status.allocatable, { cpu: "4" });
});

test("a secret's stringData is folded into data, base64-encoded, and not kept", () => {
  const secret = { metadata: { name: "s" }, data: { a: "MQ==", b: "Mg==" }, stringData: { b: "two", c: "three" } } as KubeObject & { data?: object; stringData?: object; type?: string };
  setDefaultsObject("secrets", secret);
  assert.deepEqual(secret.data, { a: "MQ==", b: Buffer.from("two").toString("base64"), c: Buffer.from("three").toString("base64") });
  assert.equal("stringData" in secret, false);
  assert.equal(secret.type, "Opaque");
});

test("imagePullPolicy defaults to Always for latest (written or implied), else IfNotPresent", () => {
  const H = "a".repeat(64);
  assert.equal(defaultImagePullPolicy("nginx"), "Always");
  assert.equal(defaultImagePullPolicy("nginx:latest"), "Always");
  assert.equal(defaultImagePullPolicy(`nginx:latest@sha256:${H}`), "Always");
  assert.equal(defaultImagePullPolicy("nginx:1.25"), "IfNotPresent");
  assert.equal(defaultImagePullPolicy("reg:5000/app:v1"), "IfNotPresent");
  assert.equal(defaultImagePullPolicy(`nginx@sha256:${H}`), "IfNotPresent");
  assert.equal(defaultImagePullPolicy("Nginx"), "IfNotPresent");
  assert.equal(defaultImagePullPolicy("a b"), "IfNotPresent");
});
