/**
 * How the registry treats its connections, below the requests:
 * - read timeout: a client that sends nothing for this long while a request is open
 *   (its headers or body) or that stops reading a response is cut off. The socket is
 *   destroyed, so a stalled upload fails, and the upload store cuts the partial chunk
 *   back. A slow upload that keeps sending is never cut off: each byte restarts the
 *   clock. Nor is a complete request the server is still answering (a pull-through
 *   download before the first byte goes out): that silence is ours, not the client's.
 * - idle timeout: a kept-alive connection with no request open is closed after this long.
 * - half-close: a client that ends its side right after its request (`printf ... | nc`,
 *   `socket.end()`) still gets the answer, and then the connection closes.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

export const DEFAULT_READ_TIMEOUT_MS = 60_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export interface ConnectionOptions {
  /** silence from the client allowed during a request, in ms (0: wait forever) */
  readTimeoutMs?: number;
  /** how long a kept-alive connection waits for its next request, in ms (0: as long as the client likes) */
  idleTimeoutMs?: number;
}

export function configureConnections(server: Server, opts: ConnectionOptions): void {
  server.timeout = opts.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
  server.keepAliveTimeout = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  server.requestTimeout = 0; // big uploads take as long as they take, as long as bytes flow
  // Node's http server drops the requests of a client that half-closes and never answers
  // them; distribution (Go's net/http) answers and then closes.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;

  const open = new WeakMap<Socket, { req: IncomingMessage; res: ServerResponse }>();
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    open.set(socket, { req, res });
    res.once("close", () => {
      if (open.get(socket)?.res === res) open.delete(socket);
    });
  });
  // With a listener here Node no longer destroys timed-out sockets itself: this decides.
  server.on("timeout", (socket: Socket) => {
    const current = open.get(socket);
    if (current && current.req.complete && !current.res.writableNeedDrain) return;
    socket.destroy();
  });
}
