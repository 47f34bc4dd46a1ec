import type { Pod } from "../../api/index.js";

/** `format.Pod`: `<name>_<namespace>(<uid>)`. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? ""}(${pod.metadata.uid ?? ""})`;
}
