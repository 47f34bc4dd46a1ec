/** metav1.Status replies of the proxy, on a response or on a raw socket that was asking to upgrade. */
import { STATUS_CODES, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { Status } from "../../api/index.js";
import type { ProxyError } from "./container-choice.js";

export function toStatus(e: ProxyError): Status {
  const s: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: e.message, code: e.code };
  if (e.reason !== "") s.reason = e.reason;
  if (e.details) s.details = e.details;
  return s;
}

export function replyStatus(res: ServerResponse, e: ProxyError): void {
  const body = JSON.stringify(toStatus(e));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(e.code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

export function replyStatusToSocket(socket: Duplex, e: ProxyError): void {
  const body = JSON.stringify(toStatus(e));
  const head = `HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? "Error"}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
  if (socket.writable) socket.end(head + body);
  else socket.destroy();
}

/** The reason kube-apiserver gives an error answer of the kubelet (NewGenericServerResponse). */
export function reasonForCode(code: number): string {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    default: return code >= 500 ? "InternalError" : "BadRequest";
  }
}

/** The message of a kubelet error body: a Status's message, else the text. */
export function messageOfBody(body: Buffer): string {
  const text = body.toString("utf8").trim();
  try {
    const v = JSON.parse(text) as { kind?: string; message?: unknown };
    if (v.kind === "Status" && typeof v.message === "string") return v.message;
  } catch {
    // plain text, as the real kubelet writes it
  }
  return text;
}
