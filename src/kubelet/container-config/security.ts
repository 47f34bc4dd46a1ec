/**
 * securityContext → CRI Linux security fields (`determineEffectiveSecurityContext`,
 * `verifyRunAsNonRoot`); container settings win over the pod's.
 */
import type { Container, Pod } from "../../api/index.js";
import type { LinuxContainerSecurityContext, NamespaceOption } from "../../runtime/index.js";
import { CreateContainerConfigError } from "./errors.js";
import { goQuote as q } from "../../gofmt/index.js";
import { formatPod } from "../format.js";

/** The image's user as CRI ImageStatus reports it: a numeric uid, or a name. */
export interface ImageUser {
  uid?: number;
  username: string;
}

/** The namespaces a pod's containers share (`namespacesForPod`). */
export function podNamespaceOptions(pod: Pod): NamespaceOption {
  return {
    network: pod.spec.hostNetwork ? "NODE" : "POD",
    pid: pod.spec.hostPID ? "NODE" : pod.spec.shareProcessNamespace ? "POD" : "CONTAINER",
    ipc: pod.spec.hostIPC ? "NODE" : "POD",
  };
}

/** `verifyRunAsNonRoot`, with the image user treated as root when the image names none. */
export function verifyRunAsNonRoot(pod: Pod, container: Container, image: ImageUser): void {
  const sc = container.securityContext;
  const psc = pod.spec.securityContext;
  const runAsNonRoot = sc?.runAsNonRoot ?? psc?.runAsNonRoot;
  if (!runAsNonRoot) return;
  const runAsUser = sc?.runAsUser ?? psc?.runAsUser;
  if (runAsUser !== undefined) {
    if (runAsUser === 0) throw new CreateContainerConfigError(`container's runAsUser breaks non-root policy (pod: ${q(formatPod(pod))}, container: ${container.name})`);
    return;
  }
  const uid = image.uid ?? (image.username === "" ? 0 : undefined);
  if (uid === 0) throw new CreateContainerConfigError(`container has runAsNonRoot and image will run as root (pod: ${q(formatPod(pod))}, container: ${container.name})`);
  if (uid === undefined && image.username !== "") {
    throw new CreateContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root (pod: ${q(formatPod(pod))}, container: ${container.name})`);
  }
}

/**
 * The container's CRI security context. The image's own user is left to the runtime (which also
 * takes the image's group from it) rather than copied into runAsUser as the kubelet does.
 */
export function containerSecurityContext(pod: Pod, container: Container): LinuxContainerSecurityContext {
  const sc = container.securityContext ?? {};
  const psc = pod.spec.securityContext ?? {};
  const out: LinuxContainerSecurityContext = { namespaceOptions: podNamespaceOptions(pod) };
  const runAsUser = sc.runAsUser ?? psc.runAsUser;
  const runAsGroup = sc.runAsGroup ?? psc.runAsGroup;
  if (runAsUser !== undefined) out.runAsUser = { value: runAsUser };
  if (runAsGroup !== undefined) out.runAsGroup = { value: runAsGroup };
  const groups = [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])];
  if (groups.length > 0) out.supplementalGroups = groups;
  if (sc.privileged) out.privileged = true;
  if (sc.readOnlyRootFilesystem) out.readonlyRootfs = true;
  if (sc.capabilities?.add?.length || sc.capabilities?.drop?.length) {
    out.capabilities = {
      ...(sc.capabilities.add?.length ? { addCapabilities: [...sc.capabilities.add] } : {}),
      ...(sc.capabilities.drop?.length ? { dropCapabilities: [...sc.capabilities.drop] } : {}),
    };
  }
  // `AddNoNewPrivileges`: only an explicit allowPrivilegeEscalation=false sets it.
  if (sc.allowPrivilegeEscalation === false) out.noNewPrivs = true;
  return out;
}
