/**
 * What the kubelet hands the runtime for a pod and its containers: the sandbox config and each
 * container's CRI config (kubelet-pods §5), plus the termination message read after an exit.
 */
export { CreateContainerConfigError } from "./errors.js";
export { generateContainerConfig, podContainerDir, DEFAULT_TERMINATION_MESSAGE_PATH } from "./generate.js";
export type { GenerateContainerConfigInput, GeneratedContainerConfig } from "./generate.js";
export {
  CONTAINER_NAME_LABEL, CONTAINER_HASH_ANNOTATION, CONTAINER_RESTART_COUNT_ANNOTATION, TERMINATION_MESSAGE_PATH_ANNOTATION,
  TERMINATION_MESSAGE_POLICY_ANNOTATION, POD_DELETION_GRACE_ANNOTATION, POD_TERMINATION_GRACE_ANNOTATION,
  PRESTOP_HANDLER_ANNOTATION, CONTAINER_PORTS_ANNOTATION, CONTAINER_KIND_LABEL,
} from "./generate.js";
export { buildPodSandboxConfig, podDNSConfig, podLogsDirectory, podSandboxLabels, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from "./sandbox-config.js";
export type { SandboxConfigOptions } from "./sandbox-config.js";
export { writeEtcHosts, etcHostsPath, managedHostsFileContent, podHostnameAndDomain, DEFAULT_CLUSTER_DOMAIN } from "./hosts.js";
export { expand, mappingFor } from "./expand.js";
export { makeEnvironmentVariables } from "./env.js";
export type { EnvContext } from "./env.js";
export { makeVolumeMounts, mountPropagation, expandSubPathExpr } from "./mounts.js";
export { containerSecurityContext, podNamespaceOptions, verifyRunAsNonRoot } from "./security.js";
export type { ImageUser } from "./security.js";
export { containerResources, containerOOMScoreAdj, milliCPUToQuota, milliCPUToShares, podQOSClass, QUOTA_PERIOD } from "./resources.js";
export type { QOSClass } from "./resources.js";
export { computeContainerHash } from "./hash.js";
export { readTerminationMessage, lastLogString, MAX_TERMINATION_MESSAGE_LENGTH } from "./termination.js";
export type { TerminationMessageInput } from "./termination.js";
