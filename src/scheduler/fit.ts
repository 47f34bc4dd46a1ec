/**
 * Which node a pod fits (the default scheduler's filter plugins that apply to podyard):
 * the node is Ready, schedulable, has no NoSchedule/NoExecute taint the pod does not
 * tolerate, matches the pod's nodeSelector, and has room (the pods on it against its
 * allocatable `pods`). Among the nodes that fit, the one with the fewest pods wins (ties:
 * by name). When none fits, the message is kube-scheduler's FitError text.
 */
import type { Node, Pod, Taint, Toleration } from "../api/index.js";

export type FitResult = { node: string } | { message: string };

const NOT_READY_TAINT: Taint = { key: "node.kubernetes.io/not-ready", effect: "NoSchedule" };
const UNREACHABLE_TAINT: Taint = { key: "node.kubernetes.io/unreachable", effect: "NoSchedule" };

/** The Ready condition's status: True, False, or Unknown (also when there is none yet). */
export function nodeReady(node: Node): "True" | "False" | "Unknown" {
  const c = node.status?.conditions?.find((x) => x.type === "Ready");
  return c?.status === "True" ? "True" : c?.status === "False" ? "False" : "Unknown";
}

/** The node's taints, with the ones the node lifecycle controller would add for its Ready state. */
function effectiveTaints(node: Node): Taint[] {
  const taints = [...(node.spec?.taints ?? [])];
  const ready = nodeReady(node);
  if (ready === "False") taints.push(NOT_READY_TAINT);
  if (ready === "Unknown") taints.push(UNREACHABLE_TAINT);
  return taints;
}

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  if (t.operator === "Exists") return t.key === undefined || t.key === "" || t.key === taint.key;
  return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
}

function untolerated(pod: Pod, node: Node): Taint | undefined {
  const tolerations = pod.spec.tolerations ?? [];
  return effectiveTaints(node).find((taint) => (taint.effect === "NoSchedule" || taint.effect === "NoExecute") && !tolerations.some((t) => tolerates(t, taint)));
}

function matchesSelector(pod: Pod, node: Node): boolean {
  const labels = node.metadata.labels ?? {};
  return Object.entries(pod.spec.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** Pods bound to each node that still count against its room. */
export function podsPerNode(pods: Pod[]): Map<string, number> {
  const n = new Map<string, number>();
  for (const p of pods) {
    const node = p.spec.nodeName;
    if (node === undefined || node === "" || isTerminal(p)) continue;
    n.set(node, (n.get(node) ?? 0) + 1);
  }
  return n;
}

function allocatablePods(node: Node): number {
  const v = node.status?.allocatable?.pods ?? node.status?.capacity?.pods;
  const n = v === undefined ? 110 : Number.parseInt(String(v), 10);
  return Number.isFinite(n) ? n : 110;
}

/** Picks a node for `pod`, or says why none fits. `pods`: every pod of the cluster (bound ones count). */
export function findNode(pod: Pod, nodes: Node[], pods: Pod[]): FitResult {
  if (nodes.length === 0) return { message: "no nodes available to schedule pods" };
  const counts = podsPerNode(pods);
  const reasons = new Map<string, number>();
  const note = (r: string): void => void reasons.set(r, (reasons.get(r) ?? 0) + 1);
  let tooMany = 0;
  const fits: Node[] = [];
  for (const node of nodes) {
    // filters run in the default profile's order; the first that fails gives the node's reason
    if (node.spec?.unschedulable === true && !(pod.spec.tolerations ?? []).some((t) => tolerates(t, { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" }))) {
      note("node(s) were unschedulable");
      continue;
    }
    if (!matchesSelector(pod, node)) {
      note("node(s) didn't match Pod's node affinity/selector");
      continue;
    }
    const taint = untolerated(pod, node);
    if (taint) {
      note(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`);
      continue;
    }
    if ((counts.get(node.metadata.name ?? "") ?? 0) >= allocatablePods(node)) {
      note("Too many pods");
      tooMany++;
      continue;
    }
    fits.push(node);
  }
  if (fits.length > 0) {
    fits.sort((a, b) => (counts.get(a.metadata.name ?? "") ?? 0) - (counts.get(b.metadata.name ?? "") ?? 0) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
    return { node: fits[0]?.metadata.name ?? "" };
  }
  // "N reason" parts sorted as kube-scheduler sorts them (by the text)
  const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
  const total = nodes.length;
  const preemption: string[] = [];
  if (tooMany > 0) preemption.push(`${tooMany} No preemption victims found for incoming pod`);
  if (total - tooMany > 0) preemption.push(`${total - tooMany} Preemption is not helpful for scheduling`);
  return { message: `0/${total} nodes are available: ${parts.join(", ")}. preemption: 0/${total} nodes are available: ${preemption.sort().join(", ")}.` };
}
