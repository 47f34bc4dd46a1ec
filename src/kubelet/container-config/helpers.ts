/**
 * This part and src/runtime/volumes as the kubelet's PodHelpers: the object the lead hands to
 * `new Kubelet({ helpers })`. Typed against PodHelpers so a change on either side shows here.
 */
import { setUpPodVolumes, tearDownPodVolumes } from "../../runtime/index.js";
import type { PodHelpers } from "../pod-helpers.js";
import { generateContainerConfig } from "./generate.js";
import { computeContainerHash } from "./hash.js";
import { writeEtcHosts } from "./hosts.js";
import { buildPodSandboxConfig } from "./sandbox-config.js";
import { readTerminationMessage } from "./termination.js";

export interface PodHelperOptions {
  clusterDomain?: string;
  /** Cluster DNS servers for ClusterFirst pods; none → the node's resolv.conf. */
  clusterDNS?: string[];
  /** Service link variables per namespace, when the kubelet has them. */
  serviceEnv?: (namespace: string) => Map<string, string> | undefined;
}

export function containerConfigHelpers(opts: PodHelperOptions = {}): PodHelpers {
  return {
    buildPodSandboxConfig: (pod, o) => buildPodSandboxConfig(pod, { ...o, clusterDomain: opts.clusterDomain, clusterDNS: opts.clusterDNS }),
    generateContainerConfig: (input) => generateContainerConfig({
      ...input,
      clusterDomain: opts.clusterDomain,
      serviceEnv: opts.serviceEnv?.(input.pod.metadata.namespace ?? "default"),
    }),
    writeEtcHosts: (podDir, pod, podIP) => writeEtcHosts(podDir, pod, podIP, { clusterDomain: opts.clusterDomain }),
    setUpPodVolumes,
    tearDownPodVolumes,
    computeContainerHash,
    readTerminationMessage: (input) => readTerminationMessage(input),
  };
}
