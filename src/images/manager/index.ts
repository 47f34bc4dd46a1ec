/** The kubelet's image manager: pull policies, back-off, pullers, credentials, pull records, image GC. */
export { KubeletImageManager, evalCRIPullErr, IMAGE_BACKOFF_INITIAL_MS, IMAGE_BACKOFF_MAX_MS } from "./image-manager.js";
export type { KubeletImageManagerOptions } from "./image-manager.js";
export { ImageGCManager, IMAGE_GC_PERIOD_MS } from "./image-gc.js";
export type { ImageFsStats, ImageGCManagerOptions, ImageRecordGC, NodeEventRecorder } from "./image-gc.js";
export { containerPullPolicy } from "./pull-policy.js";
export { applyDefaultImageTag } from "../../reference/index.js";
export {
  allowlistErrors, defaultImageManagerConfig, imageManagerConfigErrors, validateImageManagerConfig,
} from "./config.js";
export type { CredentialVerificationPolicy, ResolvedImageManagerConfig } from "./config.js";
export {
  BasicDockerKeyring, UnionDockerKeyring, dockerConfigFromSecret, hashAuthConfig, isDefaultRegistryMatch, makeDockerKeyring,
  normalizeRegistryKey, parseDockerConfigEntry, parseDockerConfigMap, readNodeDockerConfig, urlsMatch,
} from "./keyring.js";
export type { DockerConfig, DockerConfigEntry, DockerKeyring, SecretCoordinates, TrackedAuthConfig } from "./keyring.js";
export {
  ParallelImagePuller, SerialImagePuller, TokenBucket, criErrorMessage, pullWithCredentials, throttleImagePulling,
} from "./pullers.js";
export type { ImagePuller, PullRequest, PullResult } from "./pullers.js";
export { PullManager, credentialsOfPull, trimImageTagDigest } from "./pull-manager.js";
export type { PullManagerOptions } from "./pull-manager.js";
export { FsPullRecords } from "./pull-records.js";
export type { ImagePullCredentials, ImagePullIntent, ImagePulledRecord, ImagePullSecretRecord, ImagePullServiceAccount } from "./pull-records.js";
