/** Small names the kubelet prints. */
import type { Pod } from "../api/index.js";

/** format.Pod: `<name>_<namespace>(<uid>)`. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? "default"}(${pod.metadata.uid ?? ""})`;
}

/** The pod's log directory name: `<namespace>_<name>_<uid>`. */
export function podLogDirName(pod: Pod): string {
  return `${pod.metadata.namespace ?? "default"}_${pod.metadata.name ?? ""}_${pod.metadata.uid ?? ""}`;
}
