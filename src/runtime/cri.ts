/**
 * CRI's RuntimeService (k8s.io/cri-api runtime/v1 api.proto, `service RuntimeService`), with the
 * messages' field names in camelCase, as src/images/cri.ts does for the ImageService. A gRPC CRI
 * server would be a thin adapter over this; the kubelet calls only this.
 */
import type { ImageSpec, PodSandboxConfig as ImagePodSandboxConfig, PodSandboxMetadata } from "../images/index.js";

export type { PodSandboxMetadata };

export interface KeyValue {
  key: string;
  value: string;
}

export interface PortMapping {
  protocol?: "TCP" | "UDP" | "SCTP";
  containerPort: number;
  hostPort?: number;
  hostIp?: string;
}

export interface DNSConfig {
  servers: string[];
  searches: string[];
  options: string[];
}

/** A namespace mode: POD shares the sandbox's, CONTAINER is the container's own, NODE the host's. */
export type NamespaceMode = "POD" | "CONTAINER" | "NODE" | "TARGET";

export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
}

export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  runAsUser?: { value: number };
  runAsGroup?: { value: number };
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
}

export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  /**
   * Not in CRI's message: per container it is podyard's own; in a sandbox's `linux.resources` it is the
   * kubelet's podPidsLimit, which the runtime writes to the pod's cgroup (the kubelet's pod cgroup manager's job).
   */
  pidsLimit?: number;
  oomScoreAdj?: number;
}

export interface LinuxPodSandboxConfig {
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: Record<string, string>;
  resources?: LinuxContainerResources;
}

/** What RunPodSandbox is given: the pod's identity, hostname, DNS, log directory and Linux settings. */
export interface PodSandboxConfig extends ImagePodSandboxConfig {
  metadata: PodSandboxMetadata;
  hostname?: string;
  /** `/var/log/pods/<ns>_<name>_<uid>` under podyard's home: containers' logPath is relative to it. */
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  linux?: LinuxPodSandboxConfig;
}

export type PodSandboxState = "SANDBOX_READY" | "SANDBOX_NOTREADY";

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  /** Nanoseconds since the epoch. */
  createdAt: bigint;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler?: string;
}

export interface PodIP {
  ip: string;
}

export interface PodSandboxNetworkStatus {
  ip: string;
  additionalIps: PodIP[];
}

export interface PodSandboxStatus {
  id: string;
  metadata: PodSandboxMetadata;
  state: PodSandboxState;
  createdAt: bigint;
  network?: PodSandboxNetworkStatus;
  linux?: { namespaces?: { options?: NamespaceOption } };
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeHandler?: string;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus;
  info: Record<string, string>;
}

export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  labelSelector?: Record<string, string>;
}

export interface ContainerMetadata {
  name: string;
  attempt?: number;
}

export type MountPropagation = "PROPAGATION_PRIVATE" | "PROPAGATION_HOST_TO_CONTAINER" | "PROPAGATION_BIDIRECTIONAL";

export interface Mount {
  containerPath: string;
  hostPath: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
  /** Not in CRI (which has a tmpfs only for /dev/shm): mount a tmpfs at containerPath, size in bytes when set. */
  tmpfs?: { sizeBytes?: number };
}

export interface Capability {
  addCapabilities?: string[];
  dropCapabilities?: string[];
}

export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  runAsUser?: { value: number };
  runAsGroup?: { value: number };
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
}

export interface LinuxContainerConfig {
  resources?: LinuxContainerResources;
  securityContext?: LinuxContainerSecurityContext;
}

/** What CreateContainer is given. As in CRI, `command` replaces the image ENTRYPOINT and `args` its CMD (kubelet-pods §5.2); the runtime combines them with the image config. */
export interface ContainerConfig {
  metadata: ContainerMetadata;
  image: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Relative to the sandbox's logDirectory, e.g. `web/0.log`. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
  /** The signal StopContainer sends first (`SIGTERM` unless the image or lifecycle says otherwise). */
  stopSignal?: string;
}

export type ContainerState = "CONTAINER_CREATED" | "CONTAINER_RUNNING" | "CONTAINER_EXITED" | "CONTAINER_UNKNOWN";

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  image: ImageSpec;
  /** The image ID the container runs (config digest). */
  imageRef: string;
  state: ContainerState;
  createdAt: bigint;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  podSandboxId?: string;
  labelSelector?: Record<string, string>;
}

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  /** Nanoseconds since the epoch; 0 when it has not happened. */
  createdAt: bigint;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  image: ImageSpec;
  /** `repo@sha256:…` when the image has a repo digest, else the image ID. */
  imageRef: string;
  /** `Completed`, `Error`, `OOMKilled`, `StartError`. */
  reason: string;
  message: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  mounts: Mount[];
  /** Absolute path of the container's CRI log file. */
  logPath: string;
}

export interface ContainerStatusResponse {
  status: ContainerStatus;
  info: Record<string, string>;
}

export interface ExecSyncResponse {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

export interface TerminalSize {
  width: number;
  height: number;
}

/**
 * The streams of one exec or attach, as the kubelet's server holds them: CRI's Exec/Attach return a
 * URL to a streaming server; podyard's runtime takes the streams in process instead (the kubelet's
 * server is that streaming server).
 */
export interface StreamIO {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  /** Absent with a TTY (stdout carries both). */
  stderr?: NodeJS.WritableStream;
  tty: boolean;
  /** Terminal sizes as the client sends them; the first may arrive before the process starts. */
  resize?: AsyncIterable<TerminalSize>;
  /** Aborted when the client goes away mid-stream: the exec'd process should then be killed (containerd kills it when the stream's context ends). */
  signal?: AbortSignal;
}

export interface ExecRequest {
  containerId: string;
  cmd: string[];
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface AttachRequest {
  containerId: string;
  stdin: boolean;
  tty: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition {
  type: "RuntimeReady" | "NetworkReady";
  status: boolean;
  reason: string;
  message: string;
}

export interface ContainerStats {
  attributes: { id: string; metadata: ContainerMetadata; labels: Record<string, string>; annotations: Record<string, string> };
  cpu?: { timestamp: bigint; usageCoreNanoSeconds?: { value: number } };
  memory?: { timestamp: bigint; workingSetBytes?: { value: number }; usageBytes?: { value: number } };
  writableLayer?: { timestamp: bigint; usedBytes?: { value: number } };
}

/** CRI's RuntimeService: sandboxes and containers on the node. Errors are PodyardErrors whose message is what the kubelet shows. */
export interface RuntimeService {
  version(): Promise<VersionResponse>;
  status(): Promise<{ conditions: RuntimeCondition[] }>;

  /** Makes the sandbox (network, IPC and UTS namespaces, hostname) and returns its ID. */
  runPodSandbox(config: PodSandboxConfig, runtimeHandler?: string): Promise<string>;
  /** Stops every container of the sandbox (SIGKILL) and tears its namespaces down; idempotent. */
  stopPodSandbox(podSandboxId: string): Promise<void>;
  /** Removes the sandbox and all its containers; removing an absent one is not an error. */
  removePodSandbox(podSandboxId: string): Promise<void>;
  podSandboxStatus(podSandboxId: string, verbose?: boolean): Promise<PodSandboxStatusResponse>;
  listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]>;

  /** Prepares the rootfs (a writable layer over the image's snapshots) and the OCI bundle; returns the container ID. */
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** Sends the stop signal, waits `timeout` seconds, then SIGKILL; a stopped container is not an error. */
  stopContainer(containerId: string, timeout: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<Container[]>;
  containerStatus(containerId: string, verbose?: boolean): Promise<ContainerStatusResponse>;
  /** Runs a command in the container and collects its output, killing it after `timeout` seconds (0: none). */
  execSync(containerId: string, cmd: string[], timeout: number): Promise<ExecSyncResponse>;
  /** Runs a command with the given streams; resolves with its exit code. */
  exec(req: ExecRequest, io: StreamIO): Promise<number>;
  /** Attaches to the container's main process; resolves when the client detaches or the process exits. */
  attach(req: AttachRequest, io: StreamIO): Promise<void>;
  /** Opens the container's log file afresh (after the kubelet rotated it). */
  reopenContainerLog(containerId: string): Promise<void>;
  /** Connects a stream to a port inside the sandbox's network namespace. */
  portForward(podSandboxId: string, port: number): Promise<import("node:stream").Duplex>;
  containerStats(containerId: string): Promise<ContainerStats>;
  listContainerStats(filter?: ContainerFilter): Promise<ContainerStats[]>;
}
