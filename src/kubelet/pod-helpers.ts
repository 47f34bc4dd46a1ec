/**
 * What the kubelet calls to turn a pod into CRI configs and mounted volumes (written by the
 * container-config and volumes parts). The kubelet takes them as one object, so unit tests can
 * pass fakes; `defaultPodHelpers()` (default-helpers.ts) wires the real ones.
 */
import type { ConfigMap, Container, Pod, Secret } from "../api/index.js";
import type { ContainerConfig, PodSandboxConfig } from "../runtime/index.js";

export interface VolumeSourcesLike {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
}

export interface MountedVolumeLike {
  name: string;
  hostPath: string;
  readOnly: boolean;
  tmpfs?: boolean;
}

export interface GenerateContainerConfigInput {
  pod: Pod;
  container: Container;
  kind: "init" | "regular";
  restartCount: number;
  imageRef: string;
  imageUser: { uid?: number; username: string };
  volumes: Map<string, MountedVolumeLike>;
  podDir: string;
  podIP?: string;
  nodeName: string;
  nodeIP?: string;
  sources: VolumeSourcesLike;
  logDirectory: string;
}

export interface PodHelpers {
  buildPodSandboxConfig(pod: Pod, opts: { logRoot: string }): PodSandboxConfig;
  generateContainerConfig(input: GenerateContainerConfigInput): Promise<{ config: ContainerConfig; terminationMessageHostPath: string }>;
  writeEtcHosts(podDir: string, pod: Pod, podIP: string): Promise<string>;
  setUpPodVolumes(opts: { pod: Pod; podDir: string; sources: VolumeSourcesLike; nodeName: string; podIP?: string }): Promise<Map<string, MountedVolumeLike>>;
  tearDownPodVolumes(podDir: string): Promise<void>;
  /** A stable hash of the container's spec: a changed one restarts the container. */
  computeContainerHash(container: Container): string;
  /**
   * The termination message of an exited instance (§5.6): the file's last 4096 bytes, or with
   * FallbackToLogsOnError and a failure, the log's tail.
   */
  readTerminationMessage(input: { hostPath: string; container: Container; exitCode: number; reason: string; logPath: string }): Promise<string>;
}
