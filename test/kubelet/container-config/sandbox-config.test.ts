import assert from "node:assert/strict";
import { test } from "node:test";
import { buildPodSandboxConfig, podHostnameAndDomain, podQOSClass } from "../../../src/kubelet/container-config/index.js";
import { pod } from "./fixtures.js";

test("sandbox config: metadata, hostname, log directory, labels, annotations, ports, namespaces", () => {
  const p = pod({ ports: [{ containerPort: 80, name: "http" }, { containerPort: 53, protocol: "UDP", hostPort: 5353 }] }, { securityContext: { runAsUser: 1000, sysctls: [{ name: "net.core.somaxconn", value: "1024" }] } });
  const c = buildPodSandboxConfig(p, { logRoot: "/h/log/pods", attempt: 1 });
  assert.deepEqual(c, {
    metadata: { name: "web", uid: "1234", namespace: "default", attempt: 1 },
    hostname: "web",
    logDirectory: "/h/log/pods/default_web_1234",
    labels: { app: "web", tier: "front", "io.kubernetes.pod.name": "web", "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": "1234" },
    annotations: { owner: "me" },
    portMappings: [{ protocol: "TCP", containerPort: 80 }, { protocol: "UDP", containerPort: 53, hostPort: 5353 }],
    linux: {
      securityContext: { namespaceOptions: { network: "POD", pid: "CONTAINER", ipc: "POD" }, runAsUser: { value: 1000 } },
      sysctls: { "net.core.somaxconn": "1024" },
    },
  });
});

test("DNS: ClusterFirst with cluster DNS gives the search path and ndots:5; without it (or Default) the node's file", () => {
  const p = pod();
  assert.deepEqual(buildPodSandboxConfig(p, { logRoot: "/l", clusterDNS: ["10.96.0.10"] }).dnsConfig, {
    servers: ["10.96.0.10"], searches: ["default.svc.cluster.local", "svc.cluster.local", "cluster.local"], options: ["ndots:5"],
  });
  assert.equal(buildPodSandboxConfig(p, { logRoot: "/l" }).dnsConfig, undefined);
  assert.equal(buildPodSandboxConfig(pod({}, { dnsPolicy: "Default" }), { logRoot: "/l", clusterDNS: ["10.96.0.10"] }).dnsConfig, undefined);
  const hostNet = buildPodSandboxConfig(pod({}, { hostNetwork: true }), { logRoot: "/l", clusterDNS: ["10.96.0.10"] });
  assert.equal(hostNet.dnsConfig, undefined);
  assert.equal(hostNet.hostname, undefined);
  assert.equal(hostNet.linux?.securityContext?.namespaceOptions?.network, "NODE");
});

test("hostname: spec.hostname, cut to 63 without trailing - or ., and the subdomain's domain", () => {
  assert.deepEqual(podHostnameAndDomain(pod({}, { hostname: "box", subdomain: "sub" })), { hostname: "box", domain: "sub.default.svc.cluster.local" });
  const long = pod();
  long.metadata.name = "a".repeat(62) + "-bcd";
  assert.equal(podHostnameAndDomain(long).hostname, "a".repeat(62));
  assert.throws(() => podHostnameAndDomain(pod({}, { hostname: "Bad_Name" })), /pod Hostname "Bad_Name" is not a valid DNS label/);
});

test("QoS class", () => {
  assert.equal(podQOSClass(pod()), "BestEffort");
  assert.equal(podQOSClass(pod({ resources: { limits: { cpu: "1", memory: "1Gi" } } })), "Guaranteed");
  assert.equal(podQOSClass(pod({ resources: { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } } })), "Burstable");
  assert.equal(podQOSClass(pod({ resources: { requests: { memory: "1Gi" } } })), "Burstable");
});

test("the kubelet's PodHelpers built from this part pass the cluster DNS and domain on", async () => {
  const { defaultPodHelpers } = await import("../../../src/kubelet/index.js");
  const h = defaultPodHelpers({ clusterDomain: "example.org", clusterDNS: ["10.0.0.10"] });
  const c = h.buildPodSandboxConfig(pod({}, { subdomain: "s" }), { logRoot: "/l" });
  assert.deepEqual(c.dnsConfig?.searches, ["default.svc.example.org", "svc.example.org", "example.org"]);
  assert.equal(h.computeContainerHash({ name: "a", image: "b" }), h.computeContainerHash({ name: "a", image: "b", args: ["x"] }));
});

test("podPidsLimit: a positive one is the sandbox's linux.resources.pidsLimit; -1 or none sets nothing", () => {
  assert.deepEqual(buildPodSandboxConfig(pod(), { logRoot: "/l", podPidsLimit: 100 }).linux?.resources, { pidsLimit: 100 });
  assert.equal(buildPodSandboxConfig(pod(), { logRoot: "/l", podPidsLimit: -1 }).linux?.resources, undefined);
  assert.equal(buildPodSandboxConfig(pod(), { logRoot: "/l" }).linux?.resources, undefined);
});
