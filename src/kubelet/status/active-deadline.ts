/**
 * activeDeadlineSeconds (pkg/kubelet/active_deadline.go): a pod active on the node longer than its
 * deadline, counted from status.startTime on the kubelet's clock, is evicted — phase Failed with
 * this reason and message, and its containers are killed.
 */
import type { Pod } from "../../api/index.js";

export const DEADLINE_EXCEEDED_REASON = "DeadlineExceeded";
export const DEADLINE_EXCEEDED_MESSAGE = "Pod was active on the node longer than the specified deadline";

/** When (ms) the pod's deadline passes, or undefined when it has none or has not started. */
export function activeDeadlineAt(pod: Pod, startTime: string | undefined): number | undefined {
  const secs = pod.spec.activeDeadlineSeconds;
  if (secs === undefined || secs === null || !startTime) return undefined;
  const start = Date.parse(startTime);
  if (Number.isNaN(start)) return undefined;
  return start + secs * 1000;
}

export function pastActiveDeadline(pod: Pod, startTime: string | undefined, nowMs: number): boolean {
  const at = activeDeadlineAt(pod, startTime);
  return at !== undefined && nowMs >= at;
}
