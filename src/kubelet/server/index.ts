/**
 * The kubelet's HTTPS server: healthz, pods, runningpods, stats/summary, containerLogs, and the
 * exec/attach/portForward streams, over WebSocket (remotecommand v5..v1; port-forward as SPDY in
 * WebSocket, kubectl 1.31+) and over SPDY/3.1 (older kubectls, a real kube-apiserver).
 *
 *   const server = createKubeletServer({ tls: { cert, key, clientCA }, provider: kubelet });
 *   server.listen(10250, nodeIP);
 */
export { createKubeletServer, type KubeletServerOptions } from "./kubelet-server.js";
export { isLookupError, type KubeletProvider, type ContainerLookup, type LookupError } from "./provider.js";
export type { ReadContainerLog } from "./log-options.js";
