/** Container logs in the CRI format (kubelet-pods §9): parsing, reading as `kubectl logs` does, rotation. */
export {
  CriLogEncoder, formatCriLogLine, formatLogTimestamp, formatRFC3339Nano, joinPartials, logTimeFromMillis,
  MAX_LOG_LINE_SIZE, parseCriLogLine, parseRFC3339Nano,
} from "./cri-log.js";
export type { CriLogMessage, CriLogTime, LogStream } from "./cri-log.js";
export { readContainerLog, tailLineStart } from "./read-log.js";
export type { ReadLogOptions } from "./read-log.js";
export {
  ContainerLogManager, DEFAULT_CONTAINER_LOG_MAX_FILES, DEFAULT_CONTAINER_LOG_MAX_SIZE,
  DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS, rotationTimestamp,
} from "./log-manager.js";
export type { ContainerLogManagerOptions } from "./log-manager.js";
