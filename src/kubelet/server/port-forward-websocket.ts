/**
 * Port forwarding over a plain WebSocket (kubelet cri/streaming/portforward/websocket.go,
 * subprotocol `portforward.k8s.io`): ports come from the `port` query; port i uses data channel
 * 2i and error channel 2i+1, each opened by a frame with the port as 2 little-endian bytes.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { RuntimeService } from "../../runtime/index.js";

export const PORT_FORWARD_PROTOCOLS = ["portforward.k8s.io", "v4.channel.k8s.io"];

/** The ports of the query, or the kubelet's message for a bad one. */
export function parsePorts(query: URLSearchParams): number[] | { error: string } {
  const values = query.getAll("port").flatMap((v) => v.split(","));
  if (values.length === 0) return { error: "query parameter \"port\" is required" };
  const ports: number[] = [];
  for (const v of values) {
    const p = Number(v);
    if (!Number.isInteger(p) || p < 1 || p > 65535) return { error: `unable to parse "${v}" as a port: must be between 1 and 65535` };
    ports.push(p);
  }
  return ports;
}

export function servePortForwardWebSocket(ws: WebSocket, runtime: RuntimeService, sandboxId: string, ports: number[]): void {
  const conns = new Map<number, Promise<Duplex | undefined>>();
  const frame = (channel: number, data: Buffer): Buffer => Buffer.concat([Buffer.from([channel]), data]);
  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState === ws.OPEN) ws.send(frame(channel, data));
  };
  ports.forEach((port, i) => {
    const head = Buffer.alloc(2);
    head.writeUInt16LE(port);
    send(2 * i, head);
    send(2 * i + 1, head);
    const conn = runtime.portForward(sandboxId, port).then(
      (c) => {
        c.on("data", (d: Buffer) => send(2 * i, d));
        c.on("error", (err) => send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${sandboxId}: ${err.message}`)));
        c.on("close", () => ws.close(1000));
        return c;
      },
      (err: Error) => {
        send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${sandboxId}: ${err.message}`));
        return undefined;
      },
    );
    conns.set(i, conn);
  });
  ws.on("message", (raw: Buffer, isBinary: boolean) => {
    if (!isBinary || raw.length === 0) return;
    const ch = raw[0] ?? 0;
    if (ch % 2 !== 0) return;
    void conns.get(ch / 2)?.then((c) => c?.write(raw.subarray(1)));
  });
  ws.once("close", () => {
    for (const c of conns.values()) void c.then((d) => d?.destroy());
  });
}
