import type { Pod } from "../../api/index.js";

/** `format.Pod`: `<name>_<namespace>(<uid>)`. */
export function formatPod(pod: Pod): string {
  return `${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? ""}(${pod.metadata.uid ?? ""})`;
}

/** Go's `%q` for the ASCII texts the kubelet quotes (names, paths). */
export function q(s: string): string {
  return JSON.stringify(s);
}
