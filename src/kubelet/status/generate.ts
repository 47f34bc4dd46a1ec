/**
 * generateAPIPodStatus (kubelet_pods.go) for podyard: phase, conditions, container statuses, IPs,
 * startTime and QoS from what the runtime holds, keeping what the last status said where the
 * kubelet keeps it (a terminal phase, lastTransitionTimes, startTime, the pod IP after the sandbox
 * went).
 */
import { formatTime, type PodStatus, type Pod, type PodPhase } from "../../api/index.js";
import type { PodRuntimeStatus } from "../runtime-state.js";
import { convertContainerStatuses, type ProbeView, type ReasonCacheEntry } from "./container-statuses.js";
import { generateConditions } from "./conditions.js";
import { getPhase } from "./phase.js";
import { podQOSClass } from "./qos.js";

export const isTerminalPhase = (p: PodPhase | undefined): boolean => p === "Succeeded" || p === "Failed";

export interface GenerateInput {
  pod: Pod;
  runtime: PodRuntimeStatus;
  /** The status last written (or the API's). */
  old: PodStatus;
  reasons: Map<string, ReasonCacheEntry>;
  probes: ProbeView;
  nodeIP: string;
  podIsTerminal: boolean;
  nowMs: number;
}

export function generatePodStatus(input: GenerateInput): PodStatus {
  const { pod, runtime, old } = input;
  const spec = pod.spec;
  const now = formatTime(input.nowMs);
  const deleting = !!pod.metadata.deletionTimestamp;
  const common = { spec, runtime: runtime.containers, reasons: input.reasons, probes: input.probes, deleting };
  const initStatuses = convertContainerStatuses({ ...common, containers: spec.initContainers ?? [], kind: "init", old: old.initContainerStatuses ?? [] });
  const statuses = convertContainerStatuses({ ...common, containers: spec.containers, kind: "regular", old: old.containerStatuses ?? [] });
  const regular = new Set(spec.containers.map((c) => c.name));
  const podHasInitialized = runtime.containers.some((c) => regular.has(c.name));
  let phase = getPhase(spec, initStatuses, statuses, input.podIsTerminal, podHasInitialized);
  if (isTerminalPhase(old.phase)) phase = old.phase as PodPhase;
  else if (isTerminalPhase(phase) && runtime.containers.some((c) => c.state === "CONTAINER_RUNNING")) {
    // mergePodStatus: no terminal phase while a container still runs
    phase = old.phase && !isTerminalPhase(old.phase) ? old.phase : "Running";
  }
  const newest = runtime.sandboxes[0];
  const sandboxReady = newest?.state === "SANDBOX_READY" && !isTerminalPhase(phase);
  const status: PodStatus = {
    phase,
    conditions: generateConditions({ spec, initStatuses, statuses, phase, sandboxReady, old: old.conditions ?? [], now }),
  };
  if (old.phase === phase) {
    if (old.reason) status.reason = old.reason;
    if (old.message) status.message = old.message;
  }
  status.hostIP = input.nodeIP;
  status.hostIPs = [{ ip: input.nodeIP }];
  const ip = spec.hostNetwork ? input.nodeIP : ((newest?.state === "SANDBOX_READY" ? newest.ip : undefined) ?? old.podIP);
  if (ip) {
    status.podIP = ip;
    status.podIPs = [{ ip }];
  }
  status.startTime = old.startTime ?? now;
  if ((spec.initContainers ?? []).length > 0) status.initContainerStatuses = initStatuses;
  status.containerStatuses = statuses;
  status.qosClass = podQOSClass(pod);
  // normalizeStatus: a terminated message is cut to its share of 12 KiB
  const share = Math.floor(12288 / Math.max(1, initStatuses.length + statuses.length));
  for (const s of [...initStatuses, ...statuses]) {
    for (const st of [s.state, s.lastState]) {
      const t = st?.terminated;
      if (t?.message && Buffer.byteLength(t.message) > share) t.message = Buffer.from(t.message).subarray(-share).toString("utf8");
    }
  }
  return status;
}

/** statusManager.TerminatePod: what is not terminated now is ContainerStatusUnknown, and a Pending/Running pod Failed. */
export function terminatePodStatus(status: PodStatus): PodStatus {
  const out = structuredClone(status);
  for (const s of [...(out.initContainerStatuses ?? []), ...(out.containerStatuses ?? [])]) {
    if (s.state?.terminated) continue;
    if (s.state?.waiting && s.lastState?.terminated) continue;
    s.state = { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was terminated" } };
    s.ready = false;
  }
  if (out.phase === "Pending" || out.phase === "Running") out.phase = "Failed";
  return out;
}
