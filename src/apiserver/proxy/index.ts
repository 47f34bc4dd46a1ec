/**
 * The API server's pod subresources that reach the kubelet: log, exec, attach, portforward
 * (kube-apiserver's pod REST storage and its UpgradeAwareHandler). Placeholder until the streams
 * work lands: both answer 501 NotImplemented.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Node, Pod } from "../../api/index.js";

/** How the API server reaches kubelets: its client certificate, and the CA their serving certificates chain to. */
export interface KubeletConnectionInfo {
  clientCert: string | Buffer;
  clientKey: string | Buffer;
  ca?: string | Buffer;
  /** Used when a node does not say its kubelet port. */
  port?: number;
}

export interface PodLogContext {
  pod: Pod;
  node?: Node;
  query: URLSearchParams;
  kubelet: KubeletConnectionInfo;
}

export interface PodUpgradeContext extends PodLogContext {
  subresource: "exec" | "attach" | "portforward";
}

const notImplemented = JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "not implemented", reason: "NotImplemented", code: 501 });

export async function proxyPodLogs(_req: IncomingMessage, res: ServerResponse, _ctx: PodLogContext): Promise<void> {
  res.writeHead(501, { "content-type": "application/json" }).end(notImplemented);
}

export function proxyPodUpgrade(_req: IncomingMessage, socket: Duplex, _head: Buffer, _ctx: PodUpgradeContext): void {
  socket.end(`HTTP/1.1 501 Not Implemented\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(notImplemented)}\r\nconnection: close\r\n\r\n${notImplemented}`);
}
