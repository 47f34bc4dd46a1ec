/** metav1.Status replies: on an HTTP response, and on a raw socket before (instead of) an upgrade. */
import type { ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Status } from "../../api/index.js";

export function failureStatus(code: number, reason: string, message: string): Status {
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
}

export function writeStatus(res: ServerResponse, status: Status): void {
  const body = JSON.stringify(status);
  res.writeHead(status.code ?? 500, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

/** Answers an upgrade request with a plain HTTP reply and closes: kubectl prints the Status it carries. */
export function writeStatusToSocket(socket: Duplex, status: Status, extraHeaders: Record<string, string> = {}): void {
  const code = status.code ?? 500;
  const body = JSON.stringify(status);
  const headers = { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), Connection: "close", ...extraHeaders };
  const head = `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? "Error"}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;
  if (socket.writable) socket.end(head + body);
  else socket.destroy();
}
