/** The CRI sandbox config of a pod (`generatePodSandboxConfig`). */
import { join } from "node:path";
import type { Pod } from "../../api/index.js";
import type { DNSConfig, PodSandboxConfig, PortMapping } from "../../runtime/index.js";
import { DEFAULT_CLUSTER_DOMAIN, podHostnameAndDomain } from "./hosts.js";
import { podNamespaceOptions } from "./security.js";

export const POD_NAME_LABEL = "io.kubernetes.pod.name";
export const POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace";
export const POD_UID_LABEL = "io.kubernetes.pod.uid";

export interface SandboxConfigOptions {
  /** `<home>/log/pods`: the pod's log directory is `<logRoot>/<ns>_<name>_<uid>`. */
  logRoot: string;
  /** The sandbox's attempt: 0 first, +1 each time it is re-created. */
  attempt?: number;
  clusterDomain?: string;
  /** The cluster DNS servers; without them ClusterFirst falls back to the node's resolv.conf (the runtime copies it). */
  clusterDNS?: string[];
  /** The kubelet's podPidsLimit: the most processes the pod's containers may have together; -1 or absent: unlimited. */
  podPidsLimit?: number;
}

/** `<logRoot>/<namespace>_<name>_<uid>` (`BuildPodLogsDirectory`). */
export function podLogsDirectory(logRoot: string, pod: Pod): string {
  return join(logRoot, `${pod.metadata.namespace ?? "default"}_${pod.metadata.name ?? ""}_${pod.metadata.uid ?? ""}`);
}

/** The sandbox labels: the pod's labels plus its name, namespace and UID (`newPodLabels`). */
export function podSandboxLabels(pod: Pod): Record<string, string> {
  return {
    ...(pod.metadata.labels ?? {}),
    [POD_NAME_LABEL]: pod.metadata.name ?? "",
    [POD_NAMESPACE_LABEL]: pod.metadata.namespace ?? "default",
    [POD_UID_LABEL]: pod.metadata.uid ?? "",
  };
}

interface PodDNSConfig {
  nameservers?: string[];
  searches?: string[];
  options?: { name: string; value?: string }[];
}

/** DNS for the sandbox (`GetPodDNS`); undefined means the node's own resolv.conf. */
export function podDNSConfig(pod: Pod, opts: { clusterDomain?: string; clusterDNS?: string[] }): DNSConfig | undefined {
  let policy = pod.spec.dnsPolicy ?? "ClusterFirst";
  if (policy === "ClusterFirst" && pod.spec.hostNetwork) policy = "Default";
  if (policy === "ClusterFirstWithHostNet") policy = "ClusterFirst";
  const extra = (pod.spec as { dnsConfig?: PodDNSConfig }).dnsConfig;
  const extraOptions = (extra?.options ?? []).map((o) => (o.value === undefined ? o.name : `${o.name}:${o.value}`));
  if (policy === "None") return { servers: extra?.nameservers ?? [], searches: extra?.searches ?? [], options: extraOptions };
  if (policy === "ClusterFirst" && opts.clusterDNS && opts.clusterDNS.length > 0) {
    const cd = opts.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
    const ns = pod.metadata.namespace ?? "default";
    return {
      servers: [...opts.clusterDNS, ...(extra?.nameservers ?? [])],
      searches: [`${ns}.svc.${cd}`, `svc.${cd}`, cd, ...(extra?.searches ?? [])],
      options: ["ndots:5", ...extraOptions],
    };
  }
  return undefined;
}

export function buildPodSandboxConfig(pod: Pod, opts: SandboxConfigOptions): PodSandboxConfig {
  const portMappings: PortMapping[] = [];
  for (const c of pod.spec.containers) {
    for (const p of c.ports ?? []) {
      portMappings.push({
        protocol: p.protocol ?? "TCP",
        containerPort: p.containerPort,
        ...(p.hostPort !== undefined ? { hostPort: p.hostPort } : {}),
        ...(p.hostIP !== undefined ? { hostIp: p.hostIP } : {}),
      });
    }
  }
  const psc = pod.spec.securityContext ?? {};
  const privileged = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c) => c.securityContext?.privileged);
  const config: PodSandboxConfig = {
    metadata: { name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "", namespace: pod.metadata.namespace ?? "default", attempt: opts.attempt ?? 0 },
    logDirectory: podLogsDirectory(opts.logRoot, pod),
    labels: podSandboxLabels(pod),
    annotations: { ...(pod.metadata.annotations ?? {}) },
    portMappings,
    linux: {
      securityContext: {
        namespaceOptions: podNamespaceOptions(pod),
        ...(psc.runAsUser !== undefined ? { runAsUser: { value: psc.runAsUser } } : {}),
        ...(psc.runAsGroup !== undefined ? { runAsGroup: { value: psc.runAsGroup } } : {}),
        ...(psc.supplementalGroups?.length ? { supplementalGroups: [...psc.supplementalGroups] } : {}),
        ...(privileged ? { privileged: true } : {}),
      },
      ...(psc.sysctls?.length ? { sysctls: Object.fromEntries(psc.sysctls.map((s) => [s.name, s.value])) } : {}),
      ...(opts.podPidsLimit !== undefined && opts.podPidsLimit > 0 ? { resources: { pidsLimit: opts.podPidsLimit } } : {}),
    },
  };
  if (!pod.spec.hostNetwork) config.hostname = podHostnameAndDomain(pod, opts.clusterDomain).hostname;
  const dns = podDNSConfig(pod, opts);
  if (dns) config.dnsConfig = dns;
  return config;
}
