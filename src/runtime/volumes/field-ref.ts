/**
 * Values of pod fields and container resources for the downward API (volumes and env), as
 * pkg/fieldpath and pkg/api/v1/resource compute them.
 */
import { cpus, totalmem } from "node:os";
import type { Container, Pod, Quantity } from "../../api/index.js";
import { quantityMilli, quantityValue } from "../../api/index.js";
import { goQuote } from "../../gofmt/index.js";

/** `key="value"` lines sorted by key, newline-joined without a trailing newline (`FormatMap`). */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${goQuote(m?.[k] ?? "")}`).join("\n");
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/**
 * The value of a downward API `fieldRef` (`ExtractFieldPathAsString`, plus the spec/status paths
 * the kubelet resolves itself), or an Error with the kubelet's text for an unsupported path.
 */
export function podFieldValue(pod: Pod, fieldPath: string, node: { nodeName: string; nodeIP?: string; podIP?: string; podIPs?: string[] }): string {
  const meta = pod.metadata;
  const sub = SUBSCRIPT.exec(fieldPath);
  if (sub) {
    const map = sub[1] === "labels" ? meta.labels : meta.annotations;
    return map?.[sub[2] ?? ""] ?? "";
  }
  switch (fieldPath) {
    case "metadata.name": return meta.name ?? "";
    case "metadata.namespace": return meta.namespace ?? "";
    case "metadata.uid": return meta.uid ?? "";
    case "metadata.labels": return formatMap(meta.labels);
    case "metadata.annotations": return formatMap(meta.annotations);
    case "spec.nodeName": return pod.spec.nodeName ?? node.nodeName;
    case "spec.serviceAccountName": return pod.spec.serviceAccountName ?? pod.spec.serviceAccount ?? "";
    case "status.hostIP": return node.nodeIP ?? "";
    case "status.hostIPs": return node.nodeIP ?? "";
    case "status.podIP": return node.podIPs?.[0] ?? node.podIP ?? "";
    case "status.podIPs": return (node.podIPs ?? (node.podIP ? [node.podIP] : [])).join(",");
  }
  throw new Error(`unsupported fieldPath: ${fieldPath}`);
}

/** The node's allocatable cpu (cores) and memory (bytes): what an unset limit means to the downward API. */
export function nodeAllocatable(): { cpu: number; memory: number } {
  return { cpu: cpus().length, memory: totalmem() };
}

/**
 * A container resource as the downward API gives it (`ExtractContainerResourceValue`): cpu in
 * `ceil(milli / divisorMilli)`, memory and storage in `ceil(value / divisor)`. Limits left unset
 * default to the node's allocatable; requests left unset to the limit (as API defaulting does) or 0.
 */
export function containerResourceValue(container: Container, resource: string, divisor: Quantity | undefined): string {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const alloc = nodeAllocatable();
  const [kind, name] = resource.split(".", 2) as [string, string | undefined];
  if (!name || (kind !== "limits" && kind !== "requests")) throw new Error(`unsupported container resource : ${resource}`);
  let q: Quantity | undefined;
  if (kind === "limits") q = limits[name] ?? (name === "cpu" ? alloc.cpu : name === "memory" ? alloc.memory : undefined);
  else q = requests[name] ?? limits[name] ?? 0;
  if (!["cpu", "memory", "ephemeral-storage"].includes(name) && !name.startsWith("hugepages-")) {
    throw new Error(`unsupported container resource : ${resource}`);
  }
  q ??= 0;
  const div = divisor ?? 1;
  if (name === "cpu") {
    const d = quantityMilli(div);
    return String(Math.ceil(quantityMilli(q) / (d === 0 ? 1000 : d)));
  }
  const d = quantityValue(div);
  return String(Math.ceil(quantityValue(q) / (d === 0 ? 1 : d)));
}
