import assert from "node:assert/strict";
import { test } from "node:test";
import type { Node, NodeAddress, Pod } from "../../../src/api/index.js";
import { chooseContainer, kubeletAddress } from "../../../src/apiserver/proxy/container-choice.js";

const pod = (containers: string[], init: string[] = [], nodeName = "node1"): Pod => ({
  metadata: { name: "web", namespace: "default" },
  spec: { nodeName, containers: containers.map((name) => ({ name, image: "i" })), initContainers: init.map((name) => ({ name, image: "i" })) },
});

test("the container a request means, with kube-apiserver's texts when it cannot tell", () => {
  assert.deepEqual(chooseContainer(pod(["a"]), null), { container: "a" });
  assert.deepEqual(chooseContainer(pod(["a", "b"]), "b"), { container: "b" });
  assert.deepEqual(chooseContainer(pod(["a"], ["setup"]), "setup"), { container: "setup" });
  const cases: [Pod, string | null, string][] = [
    [pod(["a", "b"]), null, "a container name must be specified for pod web, choose one of: [a b]"],
    [pod(["a", "b"], ["i1"]), "", "a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [i1]"],
    [pod([]), null, "pod web does not have a container"],
    [pod(["a"]), "ghost", "container ghost is not valid for pod web"],
  ];
  for (const [p, requested, message] of cases) assert.deepEqual(chooseContainer(p, requested), { error: { code: 400, reason: "BadRequest", message } });
});

test("the kubelet's address: InternalIP first, the node's kubelet port, else the default; errors for no host or no node", () => {
  const node = (addresses: NodeAddress[], port?: number): Node => ({
    metadata: { name: "node1" },
    status: { addresses, ...(port ? { daemonEndpoints: { kubeletEndpoint: { Port: port } } } : {}) },
  });
  assert.deepEqual(kubeletAddress(pod(["a"]), node([{ type: "Hostname", address: "h" }, { type: "InternalIP", address: "10.0.0.1" }], 10251), 10250), { host: "10.0.0.1", port: 10251 });
  assert.deepEqual(kubeletAddress(pod(["a"]), node([{ type: "Hostname", address: "h" }]), 10250), { host: "h", port: 10250 });
  assert.deepEqual(kubeletAddress(pod(["a"], [], ""), node([]), 10250), { error: { code: 400, reason: "BadRequest", message: "pod web does not have a host assigned" } });
  assert.deepEqual(kubeletAddress(pod(["a"]), undefined, 10250), { error: { code: 404, reason: "NotFound", message: `nodes "node1" not found`, details: { name: "node1", kind: "nodes" } } });
  const none = kubeletAddress(pod(["a"]), node([]), 10250);
  assert.ok("error" in none && none.error.message.startsWith("no preferred addresses found"));
});
