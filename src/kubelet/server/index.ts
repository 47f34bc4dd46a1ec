/**
 * The kubelet's HTTPS server: healthz, pods, runningpods, stats/summary, containerLogs, and
 * exec/attach/portForward streams over WebSocket (remotecommand v5..v1), for the API server's proxy.
 */
export { createKubeletServer, type KubeletServerOptions } from "./kubelet-server.js";
export { isLookupError, type KubeletProvider, type ContainerLookup, type LookupError } from "./provider.js";
export type { ReadContainerLog, ReadContainerLogOptions } from "./log-options.js";
export { readCriLog } from "./cri-log-reader.js";
