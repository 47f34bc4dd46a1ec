/**
 * The resources this server serves: one entry per group/version/resource with what discovery,
 * storage keys and selectors need to know about it.
 */

export interface ResourceInfo {
  group: string;
  version: string;
  /** Plural, lower case: the URL segment and the storage key segment. */
  resource: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories?: string[];
  /** Subresource name → the kind it answers with and its verbs. */
  subresources: Record<string, { kind: string; verbs: string[] }>;
  /** Fields a field selector may name (metadata.name and, if namespaced, metadata.namespace always). */
  fieldSelectors: string[];
  /** Where objects live in storage: `/registry/<storageResource>/`, shared by events in two groups. */
  storageResource: string;
  /** Whether the object has a status that only the status subresource changes. */
  hasStatusSubresource: boolean;
}

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function res(r: Partial<ResourceInfo> & Pick<ResourceInfo, "resource" | "singular" | "kind">): ResourceInfo {
  return {
    group: "", version: "v1", listKind: `${r.kind}List`, namespaced: true, shortNames: [], subresources: {},
    fieldSelectors: [], storageResource: r.resource, hasStatusSubresource: false, ...r,
  };
}

export const RESOURCES: readonly ResourceInfo[] = [
  res({
    resource: "pods", singular: "pod", kind: "Pod", shortNames: ["po"], categories: ["all"], hasStatusSubresource: true,
    fieldSelectors: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"],
    subresources: {
      status: { kind: "Pod", verbs: ["get", "patch", "update"] },
      binding: { kind: "Binding", verbs: ["create"] },
      log: { kind: "Pod", verbs: ["get"] },
      exec: { kind: "PodExecOptions", verbs: ["create", "get"] },
      attach: { kind: "PodAttachOptions", verbs: ["create", "get"] },
      portforward: { kind: "PodPortForwardOptions", verbs: ["create", "get"] },
    },
  }),
  res({
    resource: "events", singular: "event", kind: "Event", shortNames: ["ev"],
    fieldSelectors: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion",
      "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"],
  }),
  res({ resource: "nodes", singular: "node", kind: "Node", namespaced: false, shortNames: ["no"], hasStatusSubresource: true,
    fieldSelectors: ["spec.unschedulable"], subresources: { status: { kind: "Node", verbs: ["get", "patch", "update"] } } }),
  res({ resource: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, shortNames: ["ns"], hasStatusSubresource: true,
    fieldSelectors: ["status.phase"],
    subresources: { status: { kind: "Namespace", verbs: ["get", "patch", "update"] }, finalize: { kind: "Namespace", verbs: ["update"] } } }),
  res({ resource: "secrets", singular: "secret", kind: "Secret", fieldSelectors: ["type"] }),
  res({ resource: "configmaps", singular: "configmap", kind: "ConfigMap", shortNames: ["cm"] }),
  res({ resource: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", shortNames: ["sa"],
    subresources: { token: { kind: "TokenRequest", verbs: ["create"] } } }),
  res({ group: "events.k8s.io", resource: "events", singular: "event", kind: "Event", shortNames: ["ev"],
    fieldSelectors: ["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "reason", "type", "reportingController"] }),
  res({ group: "coordination.k8s.io", resource: "leases", singular: "lease", kind: "Lease" }),
];

export const GROUP_VERSIONS: readonly { group: string; version: string }[] = [
  { group: "events.k8s.io", version: "v1" },
  { group: "coordination.k8s.io", version: "v1" },
];

export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.resource === resource);
}

export function resourcesOf(group: string, version: string): ResourceInfo[] {
  return RESOURCES.filter((r) => r.group === group && r.version === version);
}

export const DEFAULT_VERBS = VERBS;

/** The storage key of one object, or the prefix of a namespace's (or all) objects when name is undefined. */
export function storageKey(info: ResourceInfo, namespace: string | undefined, name?: string): string {
  const base = `/registry/${info.storageResource}/`;
  if (!info.namespaced) return name === undefined ? base : base + name;
  if (namespace === undefined) return base;
  return name === undefined ? `${base}${namespace}/` : `${base}${namespace}/${name}`;
}
