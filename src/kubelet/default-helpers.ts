/**
 * The real PodHelpers: container configs, sandbox config, /etc/hosts and termination messages from
 * the container-config part, pod volumes from the runtime's volumes.
 */
import { setUpPodVolumes, tearDownPodVolumes } from "../runtime/index.js";
import { buildPodSandboxConfig, computeContainerHash, generateContainerConfig, readTerminationMessage, writeEtcHosts } from "./container-config/index.js";
import type { PodHelpers } from "./pod-helpers.js";
import type { Clock } from "../clock/index.js";

export interface PodHelperOptions {
  /** Names the volumes' timestamped directories. */
  clock?: Clock;
  /** The node's IP, for the downward API's status.hostIP. */
  nodeIP?: string;
  clusterDomain?: string;
  /** Cluster DNS servers for ClusterFirst pods; none → the node's resolv.conf. */
  clusterDNS?: string[];
  /** Service link variables per namespace, when the kubelet has them. */
  serviceEnv?: (namespace: string) => Map<string, string> | undefined;
}

export function defaultPodHelpers(opts: PodHelperOptions = {}): PodHelpers {
  const domain = opts.clusterDomain ? { clusterDomain: opts.clusterDomain } : {};
  return {
    buildPodSandboxConfig: (pod, o) => buildPodSandboxConfig(pod, { logRoot: o.logRoot, ...domain, ...(opts.clusterDNS ? { clusterDNS: opts.clusterDNS } : {}) }),
    generateContainerConfig: async (input) => {
      const serviceEnv = opts.serviceEnv?.(input.pod.metadata.namespace ?? "default");
      const g = await generateContainerConfig({ ...input, ...domain, ...(serviceEnv ? { serviceEnv } : {}) });
      return { config: g.config, terminationMessageHostPath: g.terminationMessageHostPath };
    },
    writeEtcHosts: (podDir, pod, podIP) => writeEtcHosts(podDir, pod, podIP, domain),
    setUpPodVolumes: (o) => setUpPodVolumes({ ...o, ...(opts.nodeIP ? { nodeIP: opts.nodeIP } : {}), ...(opts.clock ? { clock: opts.clock } : {}) }),
    tearDownPodVolumes: (podDir) => tearDownPodVolumes(podDir),
    computeContainerHash: (c) => computeContainerHash(c),
    readTerminationMessage: (i) => readTerminationMessage({
      hostPath: i.hostPath, exitCode: i.exitCode, reason: i.reason, logPath: i.logPath,
      ...(i.container.terminationMessagePolicy ? { policy: i.container.terminationMessagePolicy } : {}),
    }),
  };
}
