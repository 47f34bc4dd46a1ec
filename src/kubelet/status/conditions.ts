/**
 * The conditions the kubelet writes (pkg/kubelet/status/generate.go, kubelet-pods §1.2), in its
 * order, with lastTransitionTime moved only when a condition's status changes.
 */
import type { ContainerStatus, PodCondition, PodPhase, PodSpec } from "../../api/index.js";
import { isSidecar } from "./phase.js";
import { goList } from "../../gofmt/index.js";

export const KUBELET_CONDITIONS = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"];

function messages(unknown: string[], other: string[], otherText: string): string {
  const m: string[] = [];
  if (unknown.length > 0) m.push(`containers with unknown status: ${goList(unknown)}`);
  if (other.length > 0) m.push(`containers with ${otherText} status: ${goList(other)}`);
  return m.join(", ");
}

export function initializedCondition(spec: PodSpec, initStatuses: ContainerStatus[], statuses: ContainerStatus[], phase: PodPhase): PodCondition {
  const inits = spec.initContainers ?? [];
  if (inits.length === 0) return { type: "Initialized", status: "True" };
  const unknown: string[] = [], incomplete: string[] = [];
  for (const c of inits) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (isSidecar(c) ? s.started !== true : !s.ready) incomplete.push(c.name);
  }
  if (unknown.length === 0 && incomplete.length === 0) return { type: "Initialized", status: "True" };
  if (phase === "Succeeded") return { type: "Initialized", status: "True", reason: "PodCompleted" };
  // once a regular container has started, the pod stays initialized
  if (statuses.some((s) => s.state?.running || s.state?.terminated || s.lastState?.terminated)) return { type: "Initialized", status: "True" };
  return { type: "Initialized", status: "False", reason: "ContainersNotInitialized", message: messages(unknown, incomplete, "incomplete") };
}

export function containersReadyCondition(spec: PodSpec, initStatuses: ContainerStatus[], statuses: ContainerStatus[], phase: PodPhase): PodCondition {
  const unknown: string[] = [], unready: string[] = [];
  for (const c of (spec.initContainers ?? []).filter(isSidecar)) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  for (const c of spec.containers) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if (phase === "Succeeded" && unknown.length === 0) return { type: "ContainersReady", status: "False", reason: "PodCompleted" };
  if (phase === "Failed") return { type: "ContainersReady", status: "False", reason: "PodFailed" };
  const msg = messages(unknown, unready, "unready");
  if (msg) return { type: "ContainersReady", status: "False", reason: "ContainersNotReady", message: msg };
  return { type: "ContainersReady", status: "True" };
}

export function readyCondition(spec: PodSpec, containersReady: PodCondition, existing: PodCondition[]): PodCondition {
  if (containersReady.status !== "True") {
    const c: PodCondition = { type: "Ready", status: containersReady.status };
    if (containersReady.reason) c.reason = containersReady.reason;
    if (containersReady.message) c.message = containersReady.message;
    return c;
  }
  const missing: string[] = [];
  for (const g of spec.readinessGates ?? []) {
    const c = existing.find((x) => x.type === g.conditionType);
    if (!c) missing.push(`corresponding condition of pod readiness gate "${g.conditionType}" does not exist.`);
    else if (c.status !== "True") missing.push(`the status of pod readiness gate "${g.conditionType}" is not "True", but ${c.status}`);
  }
  if (missing.length > 0) return { type: "Ready", status: "False", reason: "ReadinessGatesNotReady", message: missing.join(", ") };
  return { type: "Ready", status: "True" };
}

/**
 * All conditions in the kubelet's order: the ones others set first, then the kubelet's five.
 * `old` gives the lastTransitionTime to keep when a status did not change.
 */
export function generateConditions(input: {
  spec: PodSpec; initStatuses: ContainerStatus[]; statuses: ContainerStatus[]; phase: PodPhase;
  sandboxReady: boolean; old: PodCondition[]; now: string;
}): PodCondition[] {
  const { spec, initStatuses, statuses, phase, old, now } = input;
  const others = old.filter((c) => !KUBELET_CONDITIONS.includes(c.type));
  const terminal = phase === "Succeeded" || phase === "Failed";
  const cr = containersReadyCondition(spec, initStatuses, statuses, phase);
  const ready = readyCondition(spec, cr, old);
  if (terminal) {
    // mergePodStatus: a finished pod is never ready
    const reason = phase === "Succeeded" ? "PodCompleted" : "PodFailed";
    for (const c of [cr, ready]) {
      c.status = "False";
      c.reason = reason;
      delete c.message;
    }
  }
  const mine: PodCondition[] = [
    { type: "PodReadyToStartContainers", status: input.sandboxReady ? "True" : "False" },
    initializedCondition(spec, initStatuses, statuses, phase),
    ready,
    cr,
    { type: "PodScheduled", status: "True" },
  ];
  return [...others, ...mine].map((c) => {
    const prev = old.find((o) => o.type === c.type);
    const out: PodCondition = { type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now };
    if (c.reason) out.reason = c.reason;
    if (c.message) out.message = c.message;
    if (!KUBELET_CONDITIONS.includes(c.type)) return c;
    return out;
  });
}
