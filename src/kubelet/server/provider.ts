/**
 * What the kubelet's HTTPS server needs from the kubelet (virtual-kubelet's node/api shape): the
 * node's pods, where a container's process and log file are, and the runtime that execs into it.
 */
import type { Pod } from "../../api/index.js";
import type { RuntimeService } from "../../runtime/index.js";

/** A refusal the server sends as a metav1.Status (the kubelet's texts, e.g. 400 `container "c" in pod "p" is waiting to start: ContainerCreating`). */
export interface LookupError {
  error: { code: number; reason: string; message: string };
}

export interface ContainerLookup {
  containerId: string;
  /** Absolute path of the container's CRI log file. */
  logPath: string;
  running: boolean;
  sandboxId: string;
}

export interface KubeletProvider {
  /** The pods bound to this node, as the kubelet last saw them. */
  pods(): Pod[];
  /** The container instance for a request; `previous` asks for the one before the current (logs --previous). */
  lookupContainer(namespace: string, pod: string, container: string, opts: { previous?: boolean }): Promise<ContainerLookup | LookupError>;
  lookupSandbox(namespace: string, pod: string): Promise<{ sandboxId: string } | LookupError>;
  /** exec, attach, portForward and stats go straight to the runtime. */
  runtime: RuntimeService;
  /** The kubelet's /stats/summary document (stats/v1alpha1 Summary). */
  statsSummary(): Promise<object>;
}

export function isLookupError(v: object): v is LookupError {
  return "error" in v;
}
