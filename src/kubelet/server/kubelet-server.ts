/**
 * The kubelet's HTTPS server (pkg/kubelet/server): what the API server asks of a node. Every
 * request needs a client certificate that chains to `clientCA` (the API server's kubelet-client
 * certificate); exec, attach and portForward are WebSocket upgrades.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { createWebSocketStream, WebSocketServer } from "ws";
import type { Pod, Status } from "../../api/index.js";
import { readContainerLog as readRuntimeLog, type StreamIO } from "../../runtime/index.js";
import { type Clock, realClock } from "../../clock/index.js";
import { serveContainerLogs } from "./container-logs.js";
import type { ReadContainerLog } from "./log-options.js";
import { servePortForwardSpdy } from "./port-forward-spdy.js";
import { parsePorts, PORT_FORWARD_PROTOCOLS, servePortForwardWebSocket } from "./port-forward-websocket.js";
import { isLookupError, type KubeletProvider } from "./provider.js";
import {
  negotiateSpdyProtocol, parseStreamRequest, runAttach, runExec, runSpdyRemoteCommand, runWebSocketSession, selectProtocol, SPDY_STREAM_PROTOCOLS, streamRequestProblem,
} from "./remotecommand/index.js";
import { type KubeletRoute, matchRoute } from "./routes.js";
import { failureStatus, writeStatus, writeStatusToSocket } from "./status.js";
import { runningPods } from "./running-pods.js";

export interface KubeletServerOptions {
  tls: { cert: string | Buffer; key: string | Buffer; clientCA: string | Buffer };
  provider: KubeletProvider;
  clock?: Clock;
  /** How logs are read; src/runtime's readContainerLog by default. */
  readContainerLog?: ReadContainerLog;
}

const PORT_FORWARD_SPDY = "portforward.k8s.io";
const PORT_FORWARD_SPDY_TUNNEL = "SPDY/3.1+portforward.k8s.io";

const UNAUTHORIZED = failureStatus(401, "Unauthorized", "Unauthorized");

/**
 * An https.Server, not listening yet: call `listen(10250)` (tests: port 0). To stop it with
 * streams open, call `closeAllConnections()` (which also ends exec/attach/port-forward sockets), then `close()`.
 */
export function createKubeletServer(opts: KubeletServerOptions): Server {
  const clock = opts.clock ?? realClock;
  const readContainerLog = opts.readContainerLog ?? readRuntimeLog;
  const { provider } = opts;
  const server = createServer({ cert: opts.tls.cert, key: opts.tls.key, ca: opts.tls.clientCA, requestCert: true, rejectUnauthorized: false });
  // The protocol is chosen before the upgrade (it decides what the session speaks); ws only echoes it.
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (_offered, req) => (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol ?? false });

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    handleRequest(req, res).catch((err: unknown) => {
      if (!res.headersSent) writeStatus(res, failureStatus(500, "InternalError", `Internal error occurred: ${(err as Error).message}`));
      else res.destroy();
    });
  });
  // Upgraded sockets leave the server's connection list; closeAllConnections() ends them too.
  const upgraded = new Set<Duplex>();
  const closeAll = server.closeAllConnections.bind(server);
  server.closeAllConnections = (): void => {
    for (const s of upgraded) s.destroy();
    closeAll();
  };
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    socket.on("error", () => socket.destroy());
    handleUpgrade(req, socket, head).catch((err: unknown) => writeStatusToSocket(socket, failureStatus(500, "InternalError", `Internal error occurred: ${(err as Error).message}`)));
  });

  async function handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!(req.socket as TLSSocket).authorized) return writeStatus(res, UNAUTHORIZED);
    const url = new URL(req.url ?? "/", "https://kubelet");
    const route = matchRoute(url.pathname);
    if (!route) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("404 page not found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD" && !isStreamRoute(route)) {
      return writeStatus(res, failureStatus(405, "MethodNotAllowed", `the server does not allow this method on the requested resource`));
    }
    switch (route.kind) {
      case "healthz":
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8" }).end("ok");
        return;
      case "pods":
        return writeJson(res, { kind: "PodList", apiVersion: "v1", metadata: {}, items: provider.pods() });
      case "runningpods":
        return writeJson(res, { kind: "PodList", apiVersion: "v1", metadata: {}, items: await runningPods(provider.runtime) });
      case "statsSummary":
        return writeJson(res, await provider.statsSummary());
      case "containerLogs":
        return serveContainerLogs(req, res, { ...route, query: url.searchParams }, { provider, readContainerLog, clock });
      default:
        // exec/attach/portForward without an upgrade: the kubelet serves those only as streams.
        return writeStatus(res, failureStatus(400, "BadRequest", "Upgrade request required"));
    }
  }

  async function handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    if (!(req.socket as TLSSocket).authorized) return writeStatusToSocket(socket, UNAUTHORIZED);
    const url = new URL(req.url ?? "/", "https://kubelet");
    const route = matchRoute(url.pathname);
    if (!route || !isStreamRoute(route)) return writeStatusToSocket(socket, failureStatus(404, "NotFound", `the server could not find the requested resource`));
    const isWebSocket = (req.headers.upgrade ?? "").toLowerCase() === "websocket";
    const offered = (req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim()).filter((p) => p !== "");

    if (route.kind === "portForward") {
      const ports = parsePorts(url.searchParams);
      const sandbox = await provider.lookupSandbox(route.namespace, route.pod);
      if (isLookupError(sandbox)) return writeStatusToSocket(socket, failureStatus(sandbox.error.code, sandbox.error.reason, sandbox.error.message));
      const target = { sandboxId: sandbox.sandboxId, podName: route.pod, podUid: podUid(route.namespace, route.pod) };
      if (!isWebSocket) {
        // kubectl's SPDY/3.1 upgrade (its fallback, and what kubectl before 1.31 sends).
        const wanted = String(req.headers["x-stream-protocol-version"] ?? "").split(",").map((p) => p.trim());
        if (acceptSpdyUpgrade(req, socket, head, wanted.includes(PORT_FORWARD_SPDY) ? PORT_FORWARD_SPDY : undefined, [PORT_FORWARD_SPDY])) {
          servePortForwardSpdy(socket, provider.runtime, target);
        }
        return;
      }
      if (offered.includes(PORT_FORWARD_SPDY_TUNNEL)) {
        // kubectl 1.31+: SPDY carried in WebSocket binary messages (client-go portforward tunneling).
        (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = PORT_FORWARD_SPDY_TUNNEL;
        wss.handleUpgrade(req, socket, head, (ws) => {
          servePortForwardSpdy(createWebSocketStream(ws), provider.runtime, target);
        });
        return;
      }
      const protocol = offered.find((p) => PORT_FORWARD_PROTOCOLS.includes(p)) ?? (offered.length === 0 ? "" : undefined);
      if (protocol === undefined) return writeStatusToSocket(socket, unsupportedProtocols(offered, PORT_FORWARD_PROTOCOLS));
      if ("error" in ports) return writeStatusToSocket(socket, failureStatus(400, "BadRequest", ports.error));
      (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = protocol || undefined;
      wss.handleUpgrade(req, socket, head, (ws) => servePortForwardWebSocket(ws, provider.runtime, sandbox.sandboxId, ports));
      return;
    }

    const streamReq = parseStreamRequest(url.searchParams);
    const problem = streamRequestProblem(route.kind, streamReq);
    if (problem) return writeStatusToSocket(socket, failureStatus(400, "BadRequest", problem));
    const found = await provider.lookupContainer(route.namespace, route.pod, route.container, {});
    if (isLookupError(found)) return writeStatusToSocket(socket, failureStatus(found.error.code, found.error.reason, found.error.message));
    if (!found.running) {
      // The kubelet's text when no running instance of the container exists (GetExec/GetAttach).
      return writeStatusToSocket(socket, failureStatus(400, "BadRequest", `container not found ("${route.container}")`));
    }
    const kind = route.kind;
    const run = (io: StreamIO): Promise<Status> =>
      kind === "exec" ? runExec(provider.runtime, found.containerId, streamReq, io) : runAttach(provider.runtime, found.containerId, streamReq, io);
    if (!isWebSocket) {
      const spdyProtocol = negotiateSpdyProtocol(req.headers["x-stream-protocol-version"]);
      if (spdyProtocol !== undefined && acceptSpdyUpgrade(req, socket, head, spdyProtocol, SPDY_STREAM_PROTOCOLS)) {
        void runSpdyRemoteCommand(socket, { ...streamReq, protocol: spdyProtocol, clock }, run);
      }
      if (spdyProtocol === undefined) acceptSpdyUpgrade(req, socket, head, undefined, SPDY_STREAM_PROTOCOLS);
      return;
    }
    const protocol = offered.length === 0 ? selectProtocol(["channel.k8s.io"]) : selectProtocol(offered);
    if (!protocol) return writeStatusToSocket(socket, unsupportedProtocols(offered, ["v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"]));
    if (offered.length > 0) (req as IncomingMessage & { chosenProtocol?: string }).chosenProtocol = protocol.name;
    wss.handleUpgrade(req, socket, head, (ws) => {
      void runWebSocketSession(ws, protocol, streamReq, run);
    });
  }

  function podUid(namespace: string, name: string): string {
    return provider.pods().find((p) => p.metadata.namespace === namespace && p.metadata.name === name)?.metadata.uid ?? "";
  }

  return server;
}

function isStreamRoute(route: KubeletRoute): route is Extract<KubeletRoute, { kind: "exec" | "attach" | "portForward" }> {
  return route.kind === "exec" || route.kind === "attach" || route.kind === "portForward";
}

function writeJson(res: ServerResponse, value: object | Pod[]): void {
  const body = JSON.stringify(value);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

/**
 * Answers a SPDY/3.1 upgrade (httpstream.Handshake): 101 with the negotiated stream protocol, or
 * the kubelet's refusal. Returns whether the socket now speaks SPDY.
 */
function acceptSpdyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string | undefined, supported: string[]): boolean {
  if ((req.headers.upgrade ?? "").toLowerCase() !== "spdy/3.1") {
    writeStatusToSocket(socket, failureStatus(400, "BadRequest", "unable to upgrade: missing upgrade headers in request"));
    return false;
  }
  if (!protocol) {
    const wanted = String(req.headers["x-stream-protocol-version"] ?? "");
    writeStatusToSocket(socket, failureStatus(403, "Forbidden", `unable to upgrade: unable to negotiate protocol: client supports [${wanted}], server supports [${supported.join(" ")}]`));
    return false;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${protocol}\r\n\r\n`);
  if (head.length > 0) socket.unshift(head);
  return true;
}

function unsupportedProtocols(offered: string[], supported: string[]) {
  return failureStatus(400, "BadRequest", `unable to upgrade: requested protocol(s) [${offered.join(" ")}] are not supported; supported: [${supported.join(" ")}]`);
}
