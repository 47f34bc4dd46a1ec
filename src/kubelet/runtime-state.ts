/**
 * What the kubelet knows of one pod in the runtime (kubecontainer.PodStatus): its sandboxes and
 * its containers, newest first, read from the CRI by the pod UID label. Times are milliseconds.
 */
import type { ContainerState, PodSandboxState, RuntimeService } from "../runtime/index.js";

export const LABEL_POD_UID = "io.kubernetes.pod.uid";
export const LABEL_POD_NAME = "io.kubernetes.pod.name";
export const LABEL_POD_NAMESPACE = "io.kubernetes.pod.namespace";
export const LABEL_CONTAINER_NAME = "io.kubernetes.container.name";
export const ANNOTATION_RESTART_COUNT = "io.kubernetes.container.restartCount";
export const ANNOTATION_HASH = "io.kubernetes.container.hash";
/** podyard's own: where the termination-message file of this instance lives on the host. */
export const ANNOTATION_TERMINATION_HOST_PATH = "io.podyard.container.terminationMessageHostPath";
/** podyard's own: "init" for init containers (the kubelet tells them apart by the spec). */
export const LABEL_CONTAINER_KIND = "io.podyard.container.kind";

export interface RuntimeSandbox {
  id: string;
  state: PodSandboxState;
  createdAt: number;
  attempt: number;
  ip?: string;
}

export interface RuntimeContainer {
  id: string;
  sandboxId: string;
  name: string;
  state: ContainerState;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  reason: string;
  message: string;
  image: string;
  imageRef: string;
  restartCount: number;
  hash: string;
  logPath: string;
  terminationMessageHostPath?: string;
}

export interface PodRuntimeStatus {
  uid: string;
  /** Newest first. */
  sandboxes: RuntimeSandbox[];
  /** Newest first. */
  containers: RuntimeContainer[];
}

const ms = (ns: bigint): number => Number(ns / 1_000_000n);

/** Reads the pod's sandboxes and containers from the runtime. */
export async function readPodRuntimeStatus(runtime: RuntimeService, uid: string): Promise<PodRuntimeStatus> {
  const sel = { labelSelector: { [LABEL_POD_UID]: uid } };
  const [boxes, ctrs] = await Promise.all([runtime.listPodSandbox(sel), runtime.listContainers(sel)]);
  const sandboxes = await Promise.all(boxes.map(async (b): Promise<RuntimeSandbox> => {
    const s: RuntimeSandbox = { id: b.id, state: b.state, createdAt: ms(b.createdAt), attempt: b.metadata.attempt ?? 0 };
    if (b.state === "SANDBOX_READY") {
      const st = await runtime.podSandboxStatus(b.id).catch(() => undefined);
      const ip = st?.status.network?.ip;
      if (ip) s.ip = ip;
    }
    return s;
  }));
  const containers = (await Promise.all(ctrs.map(async (c): Promise<RuntimeContainer | undefined> => {
    const st = await runtime.containerStatus(c.id).then((r) => r.status).catch(() => undefined);
    if (!st) return undefined;
    const a = st.annotations ?? {};
    const rc: RuntimeContainer = {
      id: c.id, sandboxId: c.podSandboxId, name: st.labels[LABEL_CONTAINER_NAME] ?? st.metadata.name, state: st.state,
      createdAt: ms(st.createdAt), startedAt: ms(st.startedAt), finishedAt: ms(st.finishedAt), exitCode: st.exitCode,
      reason: st.reason, message: st.message, image: st.image.image, imageRef: st.imageRef,
      restartCount: Number(a[ANNOTATION_RESTART_COUNT] ?? st.metadata.attempt ?? 0) || 0, hash: a[ANNOTATION_HASH] ?? "",
      logPath: st.logPath,
    };
    const tm = a[ANNOTATION_TERMINATION_HOST_PATH];
    if (tm) rc.terminationMessageHostPath = tm;
    return rc;
  }))).filter((c): c is RuntimeContainer => c !== undefined);
  sandboxes.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
  containers.sort((a, b) => b.createdAt - a.createdAt || b.restartCount - a.restartCount);
  return { uid, sandboxes, containers };
}
