/** The pod phase from its container statuses (kubelet_pods.go getPhase, kubelet-pods §1.1). */
import type { ContainerStatus, PodPhase, PodSpec } from "../../api/index.js";

export function isSidecar(c: { restartPolicy?: string }): boolean {
  return c.restartPolicy === "Always";
}

export function getPhase(spec: PodSpec, initStatuses: ContainerStatus[], statuses: ContainerStatus[], podIsTerminal: boolean, podHasInitialized: boolean): PodPhase {
  let pendingInit = 0, failedInit = 0, pendingSidecar = 0;
  let unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    const s = initStatuses.find((x) => x.name === c.name);
    if (isSidecar(c)) {
      if (!s) {
        unknown++;
      } else if (s.state?.running) {
        running++;
        if (s.started !== true) pendingSidecar++;
      } else if (s.state?.waiting && !s.lastState?.terminated) {
        pendingSidecar++;
        waiting++;
      }
      continue;
    }
    if (!s || s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      const lt = s.lastState?.terminated;
      if (!lt) pendingInit++;
      else if (lt.exitCode !== 0) failedInit++;
    } else pendingInit++;
  }
  for (const c of spec.containers) {
    const s = statuses.find((x) => x.name === c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  const policy = spec.restartPolicy ?? "Always";
  if (failedInit > 0 && policy === "Never") return "Failed";
  if (pendingInit > 0 || (pendingSidecar > 0 && !podHasInitialized) || waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}
