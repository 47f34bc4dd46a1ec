/** kube-apiserver's checks before a pod subresource reaches the kubelet (pkg/registry/core/pod/strategy.go). */
import type { Node, Pod } from "../../api/index.js";

export interface ProxyError {
  code: number;
  reason: string;
  message: string;
  details?: { name?: string; kind?: string };
}

function names(list: { name: string }[] | undefined): string[] {
  return (list ?? []).map((c) => c.name);
}

/** The container a request means (validateContainer): the only one when none is named; else it must exist in the spec. */
export function chooseContainer(pod: Pod, requested: string | null): { container: string } | { error: ProxyError } {
  const name = pod.metadata.name ?? "";
  if (!requested) {
    const containers = names(pod.spec.containers);
    if (containers.length === 1) return { container: containers[0] ?? "" };
    if (containers.length === 0) return { error: { code: 400, reason: "BadRequest", message: `pod ${name} does not have a container` } };
    let message = `a container name must be specified for pod ${name}, choose one of: [${containers.join(" ")}]`;
    const init = names(pod.spec.initContainers);
    if (init.length > 0) message += ` or one of the init containers: [${init.join(" ")}]`;
    return { error: { code: 400, reason: "BadRequest", message } };
  }
  const all = [...names(pod.spec.containers), ...names(pod.spec.initContainers), ...names((pod.spec as { ephemeralContainers?: { name: string }[] }).ephemeralContainers)];
  if (!all.includes(requested)) return { error: { code: 400, reason: "BadRequest", message: `container ${requested} is not valid for pod ${name}` } };
  return { container: requested };
}

/** Where the pod's kubelet listens: the node's InternalIP (then Hostname, ExternalIP) and its daemon endpoint port. */
export function kubeletAddress(pod: Pod, node: Node | undefined, defaultPort: number): { host: string; port: number } | { error: ProxyError } {
  const nodeName = pod.spec.nodeName ?? "";
  if (nodeName === "") return { error: { code: 400, reason: "BadRequest", message: `pod ${pod.metadata.name ?? ""} does not have a host assigned` } };
  if (!node) return { error: { code: 404, reason: "NotFound", message: `nodes "${nodeName}" not found`, details: { name: nodeName, kind: "nodes" } } };
  const addresses = node.status?.addresses ?? [];
  const host = ["InternalIP", "Hostname", "ExternalIP"].map((t) => addresses.find((a) => a.type === t)?.address).find((a) => a !== undefined && a !== "");
  if (host === undefined) {
    return { error: { code: 500, reason: "InternalError", message: `no preferred addresses found; known addresses: [${addresses.map((a) => `{${a.type} ${a.address}}`).join(" ")}]` } };
  }
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port || defaultPort;
  return { host, port };
}
