/**
 * The pod row of `kubectl get pods`, computed as kube-apiserver's printPod does
 * (pkg/printers/internalversion/printers.go): READY, the aggregate STATUS, RESTARTS with the
 * time of the last restart, and the wide columns.
 */
import type { ContainerStatus, Pod, TableColumnDefinition } from "../../api/index.js";
import { ageSince } from "./duration.js";

export const podColumns: TableColumnDefinition[] = [
  { name: "Name", type: "string", format: "name", description: "Name of the pod, unique within its namespace.", priority: 0 },
  { name: "Ready", type: "string", format: "", description: "How many of the pod's containers are ready, out of all of them.", priority: 0 },
  { name: "Status", type: "string", format: "", description: "The aggregate state of the pod's containers.", priority: 0 },
  { name: "Restarts", type: "string", format: "", description: "How often the pod's containers were restarted, and when the last restart was.", priority: 0 },
  { name: "Age", type: "string", format: "", description: "Time since the pod was created.", priority: 0 },
  { name: "IP", type: "string", format: "", description: "The pod's first IP address.", priority: 1 },
  { name: "Node", type: "string", format: "", description: "The node the pod is bound to.", priority: 1 },
  { name: "Nominated Node", type: "string", format: "", description: "The node a preempting scheduler nominated for the pod.", priority: 1 },
  { name: "Readiness Gates", type: "string", format: "", description: "Readiness gates that are true, out of all of them.", priority: 1 },
];

export interface RowCondition { type: string; status: string; reason?: string; message?: string }

/** Rows of terminal pods carry a Completed condition, as upstream's do. */
const SUCCEEDED: RowCondition[] = [{ type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." }];
const FAILED: RowCondition[] = [{ type: "Completed", status: "True", reason: "Failed", message: "The pod failed." }];

function later(a: number, finishedAt: string | undefined): number {
  if (!finishedAt) return a;
  const t = Date.parse(finishedAt);
  return Number.isNaN(t) || t <= a ? a : t;
}

function terminatedText(prefix: string, t: { reason?: string; signal?: number; exitCode: number }): string {
  if (t.reason) return prefix + t.reason;
  if (t.signal) return `${prefix}Signal:${t.signal}`;
  return `${prefix}ExitCode:${t.exitCode}`;
}

export function printPod(pod: Pod, now: number): { cells: unknown[]; conditions?: RowCondition[] } {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  const initSpecs = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  const isSidecar = (name: string): boolean => initSpecs.get(name)?.restartPolicy === "Always";
  let total = (spec.containers ?? []).length;
  for (const c of spec.initContainers ?? []) if (c.restartPolicy === "Always") total++;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  const phase = status.phase ?? "";
  let reason: string = status.reason || phase;
  for (const c of status.conditions ?? []) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }

  const inits: ContainerStatus[] = status.initContainerStatuses ?? [];
  const initCount = (spec.initContainers ?? []).length;
  let initializing = false;
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i] as ContainerStatus;
    restarts += c.restartCount ?? 0;
    lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
    if (isSidecar(c.name)) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, c.lastState?.terminated?.finishedAt);
    }
    const term = c.state?.terminated;
    const wait = c.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (isSidecar(c.name) && c.started === true) {
      if (c.ready) ready++;
      continue;
    }
    if (term) reason = terminatedText("Init:", term);
    else if (wait?.reason && wait.reason !== "PodInitializing") reason = `Init:${wait.reason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const regular = status.containerStatuses ?? [];
    for (let i = regular.length - 1; i >= 0; i--) {
      const c = regular[i] as ContainerStatus;
      restarts += c.restartCount ?? 0;
      lastRestart = later(lastRestart, c.lastState?.terminated?.finishedAt);
      const wait = c.state?.waiting;
      const term = c.state?.terminated;
      if (wait?.reason) reason = wait.reason;
      else if (term) reason = terminatedText("", term);
      else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
      reason = podReady ? "Running" : "NotReady";
    }
  }

  if (pod.metadata.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";

  const restartText = restarts !== 0 && lastRestart !== 0
    ? `${restarts} (${ageSince(new Date(lastRestart).toISOString(), now)} ago)`
    : String(restarts);

  const podIP = status.podIPs?.[0]?.ip || "<none>";
  const nodeName = spec.nodeName || "<none>";
  const nominated = status.nominatedNodeName || "<none>";
  let gates = "<none>";
  const readinessGates = spec.readinessGates ?? [];
  if (readinessGates.length > 0) {
    let trueCount = 0;
    for (const g of readinessGates) {
      const cond = (status.conditions ?? []).find((c) => c.type === g.conditionType);
      if (cond?.status === "True") trueCount++;
    }
    gates = `${trueCount}/${readinessGates.length}`;
  }
  const cells = [pod.metadata.name ?? "", `${ready}/${total}`, reason, restartText, ageSince(pod.metadata.creationTimestamp, now), podIP, nodeName, nominated, gates];
  if (phase === "Succeeded") return { cells, conditions: SUCCEEDED };
  if (phase === "Failed") return { cells, conditions: FAILED };
  return { cells };
}
