/** The kubelet's Kubernetes API client: kubeconfig, requests, watches and a reflector. */
export { loadKubeconfig, type KubeClientConfig } from "./kubeconfig.js";
export { KubeClient, KubeApiError, isApiStatus, TOKEN_FILE_REREAD_MS, type PatchType, type RequestOptions } from "./kube-client.js";
export { Reflector, type ReflectorHandler, type ReflectorOptions } from "./reflector.js";
