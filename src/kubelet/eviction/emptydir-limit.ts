/**
 * The eviction manager's emptyDir check (emptyDirLimitEviction): a pod whose emptyDir uses more
 * than its sizeLimit (> 0) is evicted with this message; the first such volume in spec order names it.
 */
import { parseQuantity, type Pod } from "../../api/index.js";
import { quantityString } from "./quantity-string.js";

export const EVICTED_REASON = "Evicted";

/** `Usage of EmptyDir volume "x" exceeds the limit "1Gi". ` (the trailing space is the kubelet's). */
export function emptyDirMessage(volume: string, limit: string): string {
  return `Usage of EmptyDir volume ${JSON.stringify(volume)} exceeds the limit ${JSON.stringify(limit)}. `;
}

/** The emptyDir volumes that have a positive sizeLimit, with it in bytes. */
export function limitedEmptyDirs(pod: Pod): { name: string; limitBytes: number; limit: string }[] {
  const out: { name: string; limitBytes: number; limit: string }[] = [];
  for (const v of pod.spec.volumes ?? []) {
    const size = v.emptyDir?.sizeLimit;
    if (size === undefined) continue;
    const bytes = parseQuantity(size);
    if (bytes > 0) out.push({ name: v.name, limitBytes: bytes, limit: quantityString(size) });
  }
  return out;
}

/** The eviction message when a volume's usage (bytes by volume name) is over its limit, else undefined. */
export function emptyDirLimitViolation(pod: Pod, usage: ReadonlyMap<string, number>): string | undefined {
  for (const v of limitedEmptyDirs(pod)) {
    const used = usage.get(v.name);
    if (used !== undefined && used > v.limitBytes) return emptyDirMessage(v.name, v.limit);
  }
  return undefined;
}
