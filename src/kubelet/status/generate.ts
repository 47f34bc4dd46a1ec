/**
 * generateAPIPodStatus (kubelet_pods.go) for podyard: phase, conditions, container statuses, IPs,
 * startTime and QoS from what the runtime holds, keeping what the last status said where the
 * kubelet keeps it (a terminal phase, lastTransitionTimes, startTime, the pod IP after the sandbox
 * went).
 */
import type { PodStatus, Pod, PodPhase } from "../../api/index.js";
import type { PodRuntimeStatus } from "../runtime-state.js";
import { convertContainerStatuses, type ProbeView, type ReasonCacheEntry } from "./container-statuses.js";
import { generateConditions } from "./conditions.js";
import { getPhase } from "./phase.js";
import { podQOSClass } from "./qos.js";
import { rfc3339 } from "./time.js";

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
  const now = rfc3339(input.nowMs);
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

/**
 * statusManager.TerminatePod: what is not terminated now is ContainerStatusUnknown, and a
 * Pending/Running pod Failed. Regular containers are marked only once the pod had initialized,
 * and init containers only up to the last one that left Waiting: a container that never started
 * keeps its Waiting state (an `Init:Error` pod's later containers stay PodInitializing).
 */
export function terminatePodStatus(status: PodStatus): PodStatus {
  const out = structuredClone(status);
  const init = out.initContainerStatuses ?? [];
  let lastStarted = -1;
  init.forEach((s, i) => { if (!s.state?.waiting) lastStarted = i; });
  const marked = [...init.slice(0, lastStarted + 1), ...(hasPodInitialized(out) ? (out.containerStatuses ?? []) : [])];
  for (const s of marked) {
    if (s.state?.terminated) continue;
    if (s.state?.waiting && s.lastState?.terminated) continue;
    s.state = { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was terminated" } };
    s.ready = false;
  }
  if (out.phase === "Pending" || out.phase === "Running") out.phase = "Failed";
  return out;
}

/** status_manager.go hasPodInitialized: no init containers, a regular container left Waiting, or the last init container exited 0. */
function hasPodInitialized(status: PodStatus): boolean {
  const init = status.initContainerStatuses ?? [];
  if (init.length === 0) return true;
  if ((status.containerStatuses ?? []).some((s) => s.lastState?.terminated !== undefined || s.state?.waiting === undefined)) return true;
  const last = init[init.length - 1];
  const t = last?.lastState?.terminated ?? last?.state?.terminated;
  return t !== undefined && t.exitCode === 0;
}
