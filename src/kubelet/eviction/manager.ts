/**
 * The eviction manager's local storage part (pkg/kubelet/eviction): every monitoring interval
 * (10 s) it measures each active pod's limited emptyDir volumes and evicts the pods over a
 * limit — a Warning `Evicted` event on the pod, then the kubelet stops the pod with the
 * immediate eviction grace and writes phase Failed, reason Evicted, with the message.
 * Critical pods (static and mirror pods, priority >= 2000000000) are never evicted.
 */
import type { Pod } from "../../api/index.js";
import { volumeDir } from "../../runtime/index.js";
import { diskUsage } from "./disk-usage.js";
import { emptyDirLimitViolation, limitedEmptyDirs } from "./emptydir-limit.js";

/** The eviction manager's monitoringInterval. */
export const EVICTION_MONITORING_INTERVAL_MS = 10_000;
/** immediateEvictionGracePeriodSeconds: the grace a pod evicted for a local storage limit gets (the runtime's 2 s minimum then applies). */
export const IMMEDIATE_EVICTION_GRACE_SECONDS = 1;
/** SystemCriticalPriority: pods at or above it are critical. */
const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;

export interface ActivePod {
  pod: Pod;
  /** `<home>/kubelet/pods/<uid>`: its volumes are below. */
  podDir: string;
  /** From a static pod manifest (critical: never evicted). */
  isStatic: boolean;
}

export interface EvictionManagerOptions {
  /** The pods still running on the node (not terminating, not already evicted). */
  activePods(): ActivePod[];
  /** Kills the pod and marks it Failed/Evicted with the message; the manager has recorded the event. */
  evict(pod: Pod, message: string): void;
  /** The Warning `Evicted` event on the pod. */
  event(pod: Pod, message: string): void;
  /** Bytes a volume directory uses; default a du-like walk. */
  measure?: (dir: string) => Promise<number>;
  log?: (msg: string) => void;
}

/** IsCriticalPod: static, mirror, or of system-critical priority. */
export function isCriticalPod(p: ActivePod): boolean {
  if (p.isStatic) return true;
  if (p.pod.metadata.annotations?.["kubernetes.io/config.mirror"] !== undefined) return true;
  return (p.pod.spec.priority ?? 0) >= SYSTEM_CRITICAL_PRIORITY;
}

export class EvictionManager {
  readonly #o: EvictionManagerOptions;
  readonly #measure: (dir: string) => Promise<number>;

  constructor(opts: EvictionManagerOptions) {
    this.#o = opts;
    this.#measure = opts.measure ?? diskUsage;
  }

  /** One pass (synchronize's localStorageEviction); returns the pods it evicted. */
  async synchronize(): Promise<Pod[]> {
    const evicted: Pod[] = [];
    for (const p of this.#o.activePods()) {
      const volumes = limitedEmptyDirs(p.pod);
      if (volumes.length === 0) continue;
      const usage = new Map<string, number>();
      for (const v of volumes) {
        try {
          usage.set(v.name, await this.#measure(volumeDir(p.podDir, "empty-dir", v.name)));
        } catch (err) {
          this.#o.log?.(`eviction manager: measuring volume ${JSON.stringify(v.name)} of pod ${p.pod.metadata.namespace ?? "default"}/${p.pod.metadata.name ?? ""}: ${(err as Error).message}`);
        }
      }
      const message = emptyDirLimitViolation(p.pod, usage);
      if (message === undefined) continue;
      if (isCriticalPod(p)) {
        this.#o.log?.(`eviction manager: cannot evict a critical pod ${p.pod.metadata.namespace ?? "default"}/${p.pod.metadata.name ?? ""}: ${message}`);
        continue;
      }
      this.#o.event(p.pod, message);
      this.#o.evict(p.pod, message);
      evicted.push(p.pod);
    }
    return evicted;
  }
}
