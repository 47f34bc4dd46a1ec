/** The kubelet's eviction manager: emptyDir sizeLimit enforcement (local storage eviction). */
export { EvictionManager, EVICTION_MONITORING_INTERVAL_MS, IMMEDIATE_EVICTION_GRACE_SECONDS, isCriticalPod, type ActivePod, type EvictionManagerOptions } from "./manager.js";
export { emptyDirLimitViolation, emptyDirMessage, EVICTED_REASON, limitedEmptyDirs } from "./emptydir-limit.js";
export { diskUsage } from "./disk-usage.js";
export { quantityString } from "./quantity-string.js";
