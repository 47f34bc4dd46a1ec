/**
 * The Node object the kubelet registers and keeps up to date (kubelet_node_status.go): capacity and
 * allocatable, the Ready condition and the three pressures, nodeInfo, addresses, labels, the
 * kubelet's port; and the Lease in kube-node-lease renewed as the heartbeat.
 */
import { readFileSync, statfsSync } from "node:fs";
import os from "node:os";
import type { Lease, Node, NodeCondition } from "../api/index.js";
import { rfc3339 } from "./status/time.js";

/** The version the node reports: the API server's own (a kubelet newer than its API server is a skew Kubernetes does not allow). */
export const KUBELET_VERSION = "v1.32.4-podyard";

function readTrim(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}

function osImage(): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readTrim("/etc/os-release"));
  return m?.[1] ?? "Linux";
}

export function goArch(): string {
  return ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[process.arch] ?? process.arch;
}

export interface NodeStatusInput {
  nodeName: string;
  nodeIP: string;
  kubeletPort: number;
  home: string;
  labels: Record<string, string>;
  runtimeVersion: string;
  nowMs: number;
  startedMs: number;
  /** The conditions last written, to keep their lastTransitionTime. */
  old?: NodeCondition[];
}

export function buildNode(input: NodeStatusInput): Node {
  const cpus = os.cpus().length || 1;
  const memKi = Math.floor(os.totalmem() / 1024);
  let storageKi = 0;
  try {
    const fs = statfsSync(input.home);
    storageKi = Math.floor((fs.blocks * fs.bsize) / 1024);
  } catch {
    storageKi = 0;
  }
  const now = rfc3339(input.nowMs);
  const since = rfc3339(input.startedMs);
  const cond = (type: string, status: "True" | "False", reason: string, message: string): NodeCondition => {
    const prev = input.old?.find((c) => c.type === type);
    return { type, status, lastHeartbeatTime: now, lastTransitionTime: prev && prev.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : since, reason, message };
  };
  return {
    apiVersion: "v1", kind: "Node",
    metadata: {
      name: input.nodeName,
      labels: {
        "beta.kubernetes.io/arch": goArch(), "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": goArch(), "kubernetes.io/hostname": input.nodeName, "kubernetes.io/os": "linux",
        ...input.labels,
      },
      annotations: { "node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true" },
    },
    spec: {},
    status: {
      capacity: { cpu: String(cpus), memory: `${memKi}Ki`, pods: "110", "ephemeral-storage": `${storageKi}Ki` },
      // allocatable leaves out the hard eviction thresholds (memory.available 100Mi, nodefs.available 10%)
      allocatable: { cpu: String(cpus), memory: `${Math.max(0, memKi - 102400)}Ki`, pods: "110", "ephemeral-storage": String(Math.floor(storageKi * 1024 * 0.9)) },
      conditions: [
        cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
      ],
      addresses: [{ type: "InternalIP", address: input.nodeIP }, { type: "Hostname", address: input.nodeName }],
      daemonEndpoints: { kubeletEndpoint: { Port: input.kubeletPort } },
      nodeInfo: {
        machineID: readTrim("/etc/machine-id"), systemUUID: readTrim("/sys/class/dmi/id/product_uuid"), bootID: readTrim("/proc/sys/kernel/random/boot_id"),
        kernelVersion: os.release(), osImage: osImage(), containerRuntimeVersion: `podyard://${input.runtimeVersion}`,
        kubeletVersion: KUBELET_VERSION, kubeProxyVersion: "", operatingSystem: "linux", architecture: goArch(),
      },
    },
  };
}

export function buildLease(nodeName: string, nowMs: number, old?: Lease): Lease {
  const renew = new Date(nowMs).toISOString().replace("Z", "000Z");
  return {
    apiVersion: "coordination.k8s.io/v1", kind: "Lease",
    metadata: { ...(old?.metadata ?? {}), name: nodeName, namespace: "kube-node-lease" },
    spec: { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: renew },
  };
}
