/**
 * A container's CRI config (kuberuntime `generateContainerConfig` with the kubelet's
 * `GenerateRunContainerOptions`): env, mounts, /etc/hosts, the termination-message file, user
 * checks, command/args expansion, Linux resources and security, labels and annotations.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import type { Container, Pod } from "../../api/index.js";
import type { ContainerConfig, Mount, MountedVolume, VolumeSources } from "../../runtime/index.js";
import { makeEnvironmentVariables } from "./env.js";
import { expand, mappingFor } from "./expand.js";
import { computeContainerHash } from "./hash.js";
import { writeEtcHosts } from "./hosts.js";
import { makeVolumeMounts } from "./mounts.js";
import { containerResources } from "./resources.js";
import { POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from "./sandbox-config.js";
import { containerSecurityContext, verifyRunAsNonRoot, type ImageUser } from "./security.js";

export const CONTAINER_NAME_LABEL = "io.kubernetes.container.name";
export const CONTAINER_HASH_ANNOTATION = "io.kubernetes.container.hash";
export const CONTAINER_RESTART_COUNT_ANNOTATION = "io.kubernetes.container.restartCount";
export const TERMINATION_MESSAGE_PATH_ANNOTATION = "io.kubernetes.container.terminationMessagePath";
export const TERMINATION_MESSAGE_POLICY_ANNOTATION = "io.kubernetes.container.terminationMessagePolicy";
export const POD_DELETION_GRACE_ANNOTATION = "io.kubernetes.pod.deletionGracePeriod";
export const POD_TERMINATION_GRACE_ANNOTATION = "io.kubernetes.pod.terminationGracePeriod";
export const PRESTOP_HANDLER_ANNOTATION = "io.kubernetes.container.preStopHandler";
export const CONTAINER_PORTS_ANNOTATION = "io.kubernetes.container.ports";
/** podyard's own label: `init` for init containers (sidecars too), `regular` for the others. */
export const CONTAINER_KIND_LABEL = "io.podyard.container.kind";

export const DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
const ETC_HOSTS = "/etc/hosts";

export interface GenerateContainerConfigInput {
  pod: Pod;
  container: Container;
  kind: "init" | "regular";
  restartCount: number;
  /** The image ID from the image manager. */
  imageRef: string;
  /** The image's user from CRI imageStatus. */
  imageUser: ImageUser;
  volumes: Map<string, MountedVolume>;
  /** `<home>/kubelet/pods/<uid>` */
  podDir: string;
  podIP?: string;
  podIPs?: string[];
  nodeName: string;
  nodeIP?: string;
  sources: VolumeSources;
  /** The sandbox's log directory, `<home>/log/pods/<ns>_<name>_<uid>`. */
  logDirectory: string;
  /** Service link variables, when the kubelet computes them. */
  serviceEnv?: Map<string, string>;
  clusterDomain?: string;
  /** Node memory for the OOM score of Burstable pods (default: this host's). */
  memoryCapacity?: number;
}

export interface GeneratedContainerConfig {
  config: ContainerConfig;
  /** The fresh host file mounted at terminationMessagePath (read it with readTerminationMessage after exit). */
  terminationMessageHostPath: string;
  /** The final environment, as the runtime gets it. */
  env: Map<string, string>;
}

/** `<podDir>/containers/<name>`: where each instance's termination-log file is made. */
export function podContainerDir(podDir: string, containerName: string): string {
  return join(podDir, "containers", containerName);
}

/** A new empty 0666 file `<podDir>/containers/<name>/<8 hex>`, one per container instance. */
async function newTerminationLogFile(podDir: string, name: string): Promise<string> {
  const dir = podContainerDir(podDir, name);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const path = join(dir, randomBytes(4).toString("hex"));
  await (await open(path, "w", 0o666)).close();
  await chmod(path, 0o666);
  return path;
}

function annotations(input: GenerateContainerConfigInput, terminationMessagePath: string): Record<string, string> {
  const { pod, container } = input;
  const out: Record<string, string> = {
    [CONTAINER_HASH_ANNOTATION]: computeContainerHash(container),
    [CONTAINER_RESTART_COUNT_ANNOTATION]: String(input.restartCount),
    [TERMINATION_MESSAGE_PATH_ANNOTATION]: terminationMessagePath,
    [TERMINATION_MESSAGE_POLICY_ANNOTATION]: container.terminationMessagePolicy ?? "File",
  };
  if (pod.metadata.deletionGracePeriodSeconds !== undefined) out[POD_DELETION_GRACE_ANNOTATION] = String(pod.metadata.deletionGracePeriodSeconds);
  if (pod.spec.terminationGracePeriodSeconds !== undefined) out[POD_TERMINATION_GRACE_ANNOTATION] = String(pod.spec.terminationGracePeriodSeconds);
  if (container.lifecycle?.preStop) out[PRESTOP_HANDLER_ANNOTATION] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports?.length) out[CONTAINER_PORTS_ANNOTATION] = JSON.stringify(container.ports);
  return out;
}

export async function generateContainerConfig(input: GenerateContainerConfigInput): Promise<GeneratedContainerConfig> {
  const { pod, container } = input;
  const podIPs = input.podIPs ?? (input.podIP ? [input.podIP] : []);

  const env = await makeEnvironmentVariables({
    pod, container, sources: input.sources, nodeName: input.nodeName, nodeIP: input.nodeIP,
    podIP: podIPs[0], podIPs, serviceEnv: input.serviceEnv,
  });
  const mounts: Mount[] = await makeVolumeMounts(container, input.volumes, env);
  const mountsHosts = (container.volumeMounts ?? []).some((m) => m.mountPath === ETC_HOSTS);
  if (podIPs.length > 0 && !mountsHosts) {
    const hostsPath = await writeEtcHosts(input.podDir, pod, podIPs, { clusterDomain: input.clusterDomain });
    mounts.push({ containerPath: ETC_HOSTS, hostPath: hostsPath, readonly: false });
  }
  verifyRunAsNonRoot(pod, container, input.imageUser);

  const mapping = mappingFor(env);
  const command = (container.command ?? []).map((c) => expand(c, mapping));
  const args = (container.args ?? []).map((a) => expand(a, mapping));

  await mkdir(join(input.logDirectory, container.name), { recursive: true, mode: 0o755 });

  const terminationMessagePath = container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
  const terminationMessageHostPath = await newTerminationLogFile(input.podDir, container.name);
  mounts.push({ containerPath: terminationMessagePath, hostPath: terminationMessageHostPath, readonly: false });

  const config: ContainerConfig = {
    metadata: { name: container.name, attempt: input.restartCount },
    image: { image: input.imageRef, ...(container.image !== undefined ? { userSpecifiedImage: container.image } : {}) },
    ...(command.length > 0 ? { command } : {}),
    ...(args.length > 0 ? { args } : {}),
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    envs: [...env].map(([key, value]) => ({ key, value })),
    mounts,
    labels: {
      [POD_NAME_LABEL]: pod.metadata.name ?? "",
      [POD_NAMESPACE_LABEL]: pod.metadata.namespace ?? "default",
      [POD_UID_LABEL]: pod.metadata.uid ?? "",
      [CONTAINER_NAME_LABEL]: container.name,
      [CONTAINER_KIND_LABEL]: input.kind,
    },
    annotations: annotations(input, terminationMessagePath),
    logPath: `${container.name}/${input.restartCount}.log`,
    ...(container.stdin ? { stdin: true } : {}),
    ...(container.stdinOnce ? { stdinOnce: true } : {}),
    ...(container.tty ? { tty: true } : {}),
    linux: {
      resources: containerResources(pod, container, input.memoryCapacity),
      securityContext: containerSecurityContext(pod, container),
    },
    ...(container.lifecycle?.stopSignal ? { stopSignal: container.lifecycle.stopSignal } : {}),
  };
  return { config, terminationMessageHostPath, env };
}
