/**
 * resources → CRI LinuxContainerResources (`calculateLinuxResources`) and the pod's QoS class
 * with the OOM score it gives (`GetPodQOS`, `GetContainerOOMScoreAdjust`).
 */
import { totalmem } from "node:os";
import type { Container, Pod, ResourceList } from "../../api/index.js";
import { quantityMilli, quantityValue } from "../../api/index.js";
import type { LinuxContainerResources } from "../../runtime/index.js";

export const QUOTA_PERIOD = 100000;
const MIN_QUOTA = 1000;
const MIN_SHARES = 2;
const MAX_SHARES = 262144;

export function milliCPUToShares(milli: number): number {
  if (milli === 0) return MIN_SHARES;
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((milli * 1024) / 1000)));
}

export function milliCPUToQuota(milli: number, period: number): number {
  if (milli === 0) return 0;
  return Math.max(MIN_QUOTA, Math.floor((milli * period) / 1000));
}

export type QOSClass = "Guaranteed" | "Burstable" | "BestEffort";

const QOS_RESOURCES = ["cpu", "memory"];

function present(list: ResourceList | undefined, name: string): boolean {
  const v = list?.[name];
  return v !== undefined && quantityMilli(v) !== 0;
}

/** The pod's QoS class: every container limits cpu and memory with requests equal → Guaranteed; nothing set anywhere → BestEffort. */
export function podQOSClass(pod: Pod): QOSClass {
  let anySet = false;
  let guaranteed = true;
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    const limits = c.resources?.limits;
    const requests = c.resources?.requests;
    for (const r of QOS_RESOURCES) {
      const hasLimit = present(limits, r);
      // API defaulting makes an unset request equal to the limit.
      const req = requests?.[r] ?? limits?.[r];
      if (hasLimit || present(requests, r)) anySet = true;
      if (!hasLimit || req === undefined || quantityMilli(req) !== quantityMilli(limits?.[r] ?? 0)) guaranteed = false;
    }
  }
  if (!anySet) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** `GetContainerOOMScoreAdjust`: -997 Guaranteed, 1000 BestEffort, else by memory request share (3..999). */
export function containerOOMScoreAdj(pod: Pod, container: Container, memoryCapacity = totalmem()): number {
  switch (podQOSClass(pod)) {
    case "Guaranteed": return -997;
    case "BestEffort": return 1000;
    case "Burstable": break;
  }
  const req = container.resources?.requests?.memory ?? container.resources?.limits?.memory;
  const memoryRequest = req === undefined ? 0 : quantityValue(req);
  const adj = 1000 - Math.floor((1000 * memoryRequest) / memoryCapacity);
  if (adj < 3) return 3;
  if (adj === 1000) return 999;
  return adj;
}

/**
 * The container's cgroup settings: cpu shares from the request (else the limit), cfs quota over a
 * 100ms period from the cpu limit, memory limit in bytes, and — a podyard extension, since CRI sets
 * pids on the pod cgroup — a pids limit from a limit named `pids`.
 */
export function containerResources(pod: Pod, container: Container, memoryCapacity?: number): LinuxContainerResources {
  const limits = container.resources?.limits ?? {};
  const requests = container.resources?.requests ?? {};
  const cpuLimit = limits.cpu === undefined ? 0 : quantityMilli(limits.cpu);
  const cpuRequest = requests.cpu === undefined ? cpuLimit : quantityMilli(requests.cpu);
  const out: LinuxContainerResources = { cpuShares: milliCPUToShares(cpuRequest) };
  if (cpuLimit > 0) {
    out.cpuPeriod = QUOTA_PERIOD;
    out.cpuQuota = milliCPUToQuota(cpuLimit, QUOTA_PERIOD);
  }
  if (limits.memory !== undefined && quantityValue(limits.memory) > 0) out.memoryLimitInBytes = quantityValue(limits.memory);
  if (limits.pids !== undefined) out.pidsLimit = quantityValue(limits.pids);
  out.oomScoreAdj = containerOOMScoreAdj(pod, container, memoryCapacity);
  return out;
}
