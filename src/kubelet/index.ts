/**
 * The kubelet: pod workers, status, events, probes, the node and its lease, static pods, and the
 * Kubernetes API client it talks through.
 */
export { Kubelet, type KubeletOptions, type LookupError } from "./kubelet.js";
export { KubeClient, KubeApiError, isApiStatus, loadKubeconfig, Reflector, TOKEN_FILE_REREAD_MS, type KubeClientConfig, type PatchType } from "./client/index.js";
export { defaultPodHelpers } from "./default-helpers.js";
export type { PodHelperOptions } from "./default-helpers.js";
export type { PodHelpers } from "./pod-helpers.js";
export type { GenerateContainerConfigInput } from "./container-config/index.js";
export { EventRecorder, podRef } from "./events/recorder.js";
export { getPhase } from "./status/phase.js";
export { generatePodStatus } from "./status/generate.js";
export { staticPodFromManifest, MIRROR_ANNOTATION } from "./static-pods.js";
export { createKubeletServer, isLookupError, type KubeletServerOptions, type KubeletProvider, type ContainerLookup } from "./server/index.js";
