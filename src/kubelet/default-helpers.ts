/**
 * The real PodHelpers: container configs, sandbox config, /etc/hosts and termination messages from
 * the container-config part, pod volumes from the runtime's volumes.
 */
import { setUpPodVolumes, tearDownPodVolumes } from "../runtime/index.js";
import { buildPodSandboxConfig, computeContainerHash, generateContainerConfig, readTerminationMessage, writeEtcHosts } from "./container-config/index.js";
import type { PodHelpers } from "./pod-helpers.js";
import type { Clock } from "../clock/index.js";

export function defaultPodHelpers(opts: { clock?: Clock; nodeIP?: string; clusterDomain?: string; clusterDNS?: string[] } = {}): PodHelpers {
  return {
    buildPodSandboxConfig: (pod, o) => buildPodSandboxConfig(pod, { logRoot: o.logRoot, ...(opts.clusterDomain ? { clusterDomain: opts.clusterDomain } : {}), ...(opts.clusterDNS ? { clusterDNS: opts.clusterDNS } : {}) }),
    generateContainerConfig: async (input) => {
      const g = await generateContainerConfig(input);
      return { config: g.config, terminationMessageHostPath: g.terminationMessageHostPath };
    },
    writeEtcHosts: (podDir, pod, podIP) => writeEtcHosts(podDir, pod, podIP),
    setUpPodVolumes: (o) => setUpPodVolumes({ ...o, ...(opts.nodeIP ? { nodeIP: opts.nodeIP } : {}), ...(opts.clock ? { clock: opts.clock } : {}) }),
    tearDownPodVolumes: (podDir) => tearDownPodVolumes(podDir),
    computeContainerHash: (c) => computeContainerHash(c),
    readTerminationMessage: (i) => readTerminationMessage({
      hostPath: i.hostPath, exitCode: i.exitCode, reason: i.reason, logPath: i.logPath,
      ...(i.container.terminationMessagePolicy ? { policy: i.container.terminationMessagePolicy } : {}),
    }),
  };
}
