/**
 * From the runtime's containers to the API's container statuses (convertToAPIContainerStatuses,
 * kubelet-pods §2.1): the newest instance gives `state`, the one before it `lastState`, a failed
 * start in the reason cache turns the state into `waiting{reason, message}`.
 */
import { formatTime, type Container, type ContainerState, type ContainerStatus, type PodSpec } from "../../api/index.js";
import type { RuntimeContainer } from "../runtime-state.js";

export const RUNTIME_TYPE = "podyard";

/** The terminated message of a regular init container the runtime no longer has, once the pod initialized. */
export const LOST_INIT_MESSAGE = "Unable to get init container status from container runtime and pod has been initialized, treat it as exited normally";

export function containerIdString(id: string): string {
  return `${RUNTIME_TYPE}://${id}`;
}

export interface ReasonCacheEntry {
  reason: string;
  message: string;
}

/** What the prober says of a running container (no probe: started and ready). */
export interface ProbeView {
  started(containerId: string, container: Container): boolean;
  ready(containerId: string, container: Container): boolean;
}

export const NO_PROBES: ProbeView = { started: () => true, ready: () => true };

function runtimeState(c: RuntimeContainer, prev: ContainerStatus | undefined): ContainerState {
  switch (c.state) {
    case "CONTAINER_RUNNING":
      return { running: { startedAt: formatTime(c.startedAt) } };
    case "CONTAINER_EXITED": {
      const t: NonNullable<ContainerState["terminated"]> = { exitCode: c.exitCode };
      if (c.reason) t.reason = c.reason;
      if (c.message) t.message = c.message;
      if (c.startedAt) t.startedAt = formatTime(c.startedAt);
      if (c.finishedAt) t.finishedAt = formatTime(c.finishedAt);
      t.containerID = containerIdString(c.id);
      return { terminated: t };
    }
    case "CONTAINER_UNKNOWN":
      if (prev?.state?.running) {
        return { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was terminated", containerID: containerIdString(c.id) } };
      }
      return { waiting: {} };
    default:
      return { waiting: {} };
  }
}

/** ShouldContainerBeRestarted (pkg/kubelet/container/helpers.go), for a pod not being deleted. */
export function shouldContainerBeRestarted(restartPolicy: string | undefined, newest: RuntimeContainer | undefined, deleting: boolean): boolean {
  if (deleting) return false;
  if (!newest) return true;
  if (newest.state === "CONTAINER_RUNNING") return false;
  if (newest.state !== "CONTAINER_EXITED") return true;
  const policy = restartPolicy ?? "Always";
  if (policy === "Never") return false;
  if (policy === "OnFailure" && newest.exitCode === 0) return false;
  return true;
}

export interface ConvertInput {
  spec: PodSpec;
  containers: Container[];
  kind: "init" | "regular";
  /** Every runtime container of the pod, newest first. */
  runtime: RuntimeContainer[];
  /** The statuses last written, for the previous state of vanished containers. */
  old: ContainerStatus[];
  reasons: Map<string, ReasonCacheEntry>;
  probes: ProbeView;
  deleting: boolean;
}

export function convertContainerStatuses(input: ConvertInput): ContainerStatus[] {
  const hasInit = (input.spec.initContainers ?? []).length > 0;
  // HasAnyRegularContainerCreated: a regular container exists in the runtime (created, running or exited)
  const regular = new Set(input.spec.containers.map((c) => c.name));
  const podHasInitialized = input.runtime.some((r) => regular.has(r.name));
  const out = input.containers.map((c): ContainerStatus => {
    const s: ContainerStatus = {
      name: c.name, state: { waiting: { reason: hasInit ? "PodInitializing" : "ContainerCreating" } }, lastState: {},
      ready: false, restartCount: 0, image: c.image ?? "", imageID: "", started: false,
    };
    const prev = input.old.find((o) => o.name === c.name);
    const instances = input.runtime.filter((r) => r.name === c.name);
    const newest = instances[0];
    if (newest) {
      s.state = runtimeState(newest, prev);
      s.restartCount = newest.restartCount;
      if (newest.image) s.image = newest.image;
      s.imageID = newest.imageRef;
      s.containerID = containerIdString(newest.id);
      const second = instances[1];
      if (second) s.lastState = runtimeState(second, undefined);
      if (newest.state === "CONTAINER_RUNNING") {
        s.started = input.kind === "init" && c.restartPolicy !== "Always" ? true : input.probes.started(newest.id, c);
        s.ready = input.kind === "init" && c.restartPolicy !== "Always" ? false : s.started && input.probes.ready(newest.id, c);
      }
      if (input.kind === "init" && c.restartPolicy !== "Always") s.ready = newest.state === "CONTAINER_EXITED" && newest.exitCode === 0;
    } else if (prev?.state?.terminated) {
      // a finished container the runtime no longer has (removed, or a new kubelet over an empty
      // runtime) keeps the status it had, exit code, reason, containerID and times included
      Object.assign(s, structuredClone(prev));
    } else if (prev) {
      // the last status's restart count and last termination carry over while the runtime has nothing
      s.restartCount = prev.restartCount;
      s.lastState = structuredClone(prev.lastState ?? {});
      if (prev.state?.running && !s.lastState.terminated) {
        // it ran and the runtime lost it: stopped, not back to Pending; a restart unless the pod is being deleted
        s.lastState = { terminated: { exitCode: 137, reason: "ContainerStatusUnknown", message: "The container could not be located when the pod was deleted.  The container used to be Running" } };
        if (!input.deleting) s.restartCount += 1;
      }
    }
    if (!newest && input.kind === "init" && c.restartPolicy !== "Always" && s.state?.waiting && podHasInitialized) {
      s.state = { terminated: { exitCode: 0, reason: "Completed", message: LOST_INIT_MESSAGE } };
    }
    const cached = input.reasons.get(c.name);
    if (cached && shouldContainerBeRestarted(input.spec.restartPolicy, newest, input.deleting)) {
      if (s.state?.terminated) s.lastState = s.state;
      s.state = { waiting: { reason: cached.reason, ...(cached.message ? { message: cached.message } : {}) } };
      s.ready = false;
      s.started = false;
    }
    return s;
  });
  if (input.kind === "regular") out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}
