/**
 * The Kubernetes API server of a single node: etcd-shaped storage (SQLite by default), the REST
 * verbs, watch, discovery and OpenAPI for the core/v1, events.k8s.io/v1 and coordination.k8s.io/v1
 * resources podyard serves, and the pod subresources that reach the kubelet.
 */
export { createApiServer, SERVER_VERSION, SYSTEM_NAMESPACES, type ApiServer, type ApiServerOptions } from "./server.js";
export {
  SqliteStorage, CompactedError, KeyExistsError, KeyNotFoundError, RevisionConflictError, WatchOverflowError,
  type KV, type RangeOptions, type RangeResult, type SqliteStorageOptions, type Storage, type StorageEvent,
} from "./storage/index.js";
export { ApiError } from "./status.js";
export { RESOURCES, type ResourceInfo } from "./resources.js";
export type { KubeletConnectionInfo } from "./proxy/index.js";
