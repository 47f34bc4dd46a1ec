/**
 * The API server's pod subresources that reach the kubelet: log, exec, attach, portforward
 * (kube-apiserver's pod REST storage and its UpgradeAwareHandler). The checks kube-apiserver makes
 * come first, with its texts; then the request goes to the pod's kubelet over TLS with the API
 * server's client certificate. Upgrades are piped both ways as raw sockets, so the WebSocket
 * handshake and frames run end to end between the client and the kubelet.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import { connect as tlsConnect } from "node:tls";
import type { Node, Pod } from "../../api/index.js";
import { chooseContainer, kubeletAddress, type ProxyError } from "./container-choice.js";
import { logPath, portForwardPath, streamPath } from "./kubelet-paths.js";
import { messageOfBody, reasonForCode, replyStatus, replyStatusToSocket } from "./status-reply.js";

/** How the API server reaches kubelets: its client certificate, and the CA their serving certificates chain to. */
export interface KubeletConnectionInfo {
  clientCert: string | Buffer;
  clientKey: string | Buffer;
  /** Without it the kubelet's serving certificate is not verified (kube-apiserver without --kubelet-certificate-authority). */
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

const DEFAULT_KUBELET_PORT = 10250;
/** How much of a kubelet's error body is read into the Status message. */
const MAX_ERROR_BODY = 64 * 1024;

function tlsOptions(k: KubeletConnectionInfo): { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; rejectUnauthorized: boolean } {
  const o: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; rejectUnauthorized: boolean } = { cert: k.clientCert, key: k.clientKey, rejectUnauthorized: k.ca !== undefined };
  if (k.ca !== undefined) o.ca = k.ca;
  return o;
}

function dialError(host: string, port: number, path: string, err: Error): ProxyError {
  return { code: 500, reason: "", message: `error dialing backend: Get "https://${host}:${port}${path}": ${err.message}` };
}

/** GET pods/{name}/log: the kubelet's containerLogs, passed through chunk by chunk (follow ends when the kubelet ends). */
export async function proxyPodLogs(req: IncomingMessage, res: ServerResponse, ctx: PodLogContext): Promise<void> {
  const { pod, query } = ctx;
  const chosen = chooseContainer(pod, query.get("container"));
  if ("error" in chosen) return replyStatus(res, chosen.error);
  if (!pod.spec.nodeName) {
    // Not scheduled yet: kube-apiserver answers with an empty log.
    res.writeHead(200, { "content-type": "text/plain" }).end();
    return;
  }
  const addr = kubeletAddress(pod, ctx.node, ctx.kubelet.port ?? DEFAULT_KUBELET_PORT);
  if ("error" in addr) return replyStatus(res, addr.error);
  const path = logPath(pod, chosen.container, query);

  await new Promise<void>((resolve) => {
    const tls = tlsOptions(ctx.kubelet);
    // kube-apiserver's per-request escape hatch for a kubelet with a bad serving certificate.
    if (["1", "true"].includes(query.get("insecureSkipTLSVerifyBackend") ?? "")) tls.rejectUnauthorized = false;
    const upstream = httpsRequest({ host: addr.host, port: addr.port, path, method: "GET", agent: false, ...tls });
    const onClientGone = (): void => {
      upstream.destroy();
      resolve();
    };
    res.once("close", onClientGone);
    upstream.on("error", (err) => {
      res.off("close", onClientGone);
      if (!res.headersSent) replyStatus(res, dialError(addr.host, addr.port, path, err));
      else res.destroy();
      resolve();
    });
    upstream.on("response", (kres) => {
      const code = kres.statusCode ?? 500;
      if (code < 200 || code >= 300) {
        const chunks: Buffer[] = [];
        let size = 0;
        kres.on("data", (d: Buffer) => {
          if (size < MAX_ERROR_BODY) chunks.push(d);
          size += d.length;
        });
        kres.on("end", () => {
          res.off("close", onClientGone);
          replyStatus(res, { code, reason: reasonForCode(code), message: messageOfBody(Buffer.concat(chunks)) });
          resolve();
        });
        kres.on("error", () => resolve());
        return;
      }
      res.writeHead(200, { "content-type": kres.headers["content-type"] ?? "text/plain", "transfer-encoding": "chunked", "cache-control": "no-cache" });
      res.flushHeaders();
      kres.on("data", (d: Buffer) => {
        if (!res.write(d)) {
          kres.pause();
          res.once("drain", () => kres.resume());
        }
      });
      kres.on("end", () => {
        res.off("close", onClientGone);
        res.end();
        resolve();
      });
      kres.on("error", () => {
        res.destroy();
        resolve();
      });
    });
    upstream.end();
  });
}

/** Headers that stay with the API server: its own authentication and hop-by-hop framing it re-creates. */
const DROPPED_HEADERS = new Set(["host", "authorization", "proxy-authorization", "impersonate-user", "impersonate-group", "content-length", "transfer-encoding"]);

/** exec, attach, portforward: checks, then the upgrade request is forwarded and both sockets are piped. */
export function proxyPodUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, ctx: PodUpgradeContext): void {
  const { pod, query, subresource } = ctx;
  let path: string;
  if (subresource === "portforward") {
    path = portForwardPath(pod, query);
  } else {
    const chosen = chooseContainer(pod, query.get("container"));
    if ("error" in chosen) return replyStatusToSocket(socket, chosen.error);
    path = streamPath(pod, subresource, chosen.container, query);
  }
  const addr = kubeletAddress(pod, ctx.node, ctx.kubelet.port ?? DEFAULT_KUBELET_PORT);
  if ("error" in addr) return replyStatusToSocket(socket, addr.error);

  socket.on("error", () => socket.destroy());
  const upstream = tlsConnect({ host: addr.host, port: addr.port, ...tlsOptions(ctx.kubelet), ALPNProtocols: ["http/1.1"] });
  let connected = false;
  upstream.once("secureConnect", () => {
    connected = true;
    const lines = [`${req.method ?? "GET"} ${path} HTTP/1.1`, `Host: ${addr.host.includes(":") ? `[${addr.host}]` : addr.host}:${addr.port}`];
    const raw = req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] ?? "";
      if (!DROPPED_HEADERS.has(name.toLowerCase())) lines.push(`${name}: ${raw[i + 1] ?? ""}`);
    }
    if (req.method === "POST") lines.push("Content-Length: 0");
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
  });
  upstream.on("error", (err) => {
    if (!connected) replyStatusToSocket(socket, dialError(addr.host, addr.port, path, err));
    else socket.destroy();
  });
  // pipe() ends the client's socket when the kubelet's ends, after what is buffered is written.
  socket.on("close", () => upstream.destroy());
}
