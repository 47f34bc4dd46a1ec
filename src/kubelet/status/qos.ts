/** The pod's QoS class (pkg/apis/core/v1/helper/qos GetPodQOS): Guaranteed, Burstable or BestEffort. */
import type { Pod } from "../../api/index.js";

const QOS_RESOURCES = ["cpu", "memory"];

export function podQOSClass(pod: Pod): "Guaranteed" | "Burstable" | "BestEffort" {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...(c.resources?.requests ?? {}) };
    for (const r of QOS_RESOURCES) {
      const req = requests[r], lim = limits[r];
      if ((req !== undefined && String(req) !== "0") || lim !== undefined) any = true;
      if (lim === undefined || req === undefined || String(req) !== String(lim)) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}
