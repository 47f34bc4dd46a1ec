/**
 * What the kubelet calls to turn a pod into CRI configs and mounted volumes (the container-config
 * part and src/runtime/volumes). The kubelet takes them as one object, so unit tests can pass
 * fakes; `defaultPodHelpers()` (default-helpers.ts) wires the real ones.
 */
import type { Container, Pod } from "../api/index.js";
import type { ContainerConfig, MountedVolume, PodSandboxConfig, VolumeSources } from "../runtime/index.js";
import type { GenerateContainerConfigInput } from "./container-config/index.js";

export interface PodHelpers {
  buildPodSandboxConfig(pod: Pod, opts: { logRoot: string }): PodSandboxConfig;
  generateContainerConfig(input: GenerateContainerConfigInput): Promise<{ config: ContainerConfig; terminationMessageHostPath: string }>;
  writeEtcHosts(podDir: string, pod: Pod, podIP: string): Promise<string>;
  setUpPodVolumes(opts: { pod: Pod; podDir: string; sources: VolumeSources; nodeName: string; podIP?: string }): Promise<Map<string, MountedVolume>>;
  tearDownPodVolumes(podDir: string): Promise<void>;
  /** A stable hash of the container's spec: a changed one restarts the container. */
  computeContainerHash(container: Container): string;
  /**
   * The termination message of an exited instance (§5.6): the file's last 4096 bytes, or with
   * FallbackToLogsOnError and a failure, the log's tail.
   */
  readTerminationMessage(input: { hostPath: string; container: Container; exitCode: number; reason: string; logPath: string }): Promise<string>;
}
