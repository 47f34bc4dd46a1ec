/**
 * One exec or attach over a remotecommand WebSocket: client frames become stdin and terminal
 * sizes, the process's output becomes frames, and the end is one status on channel 3 followed by
 * a close 1000 (kubectl reads the status only once its stdout/stderr readers see the close).
 */
import { PassThrough, Writable } from "node:stream";
import type { WebSocket } from "ws";
import type { Status } from "../../../api/index.js";
import type { StreamIO } from "../../../runtime/index.js";
import { CLOSE, type ChannelProtocol, decodeFrame, encodeFrame, ERROR, RESIZE, STDERR, STDIN, STDOUT } from "./protocols.js";
import { TerminalSizeQueue } from "./terminal-size-queue.js";

export interface SessionOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** What the session runs: resolves with the status to send, once the process is done. */
export type SessionBody = (io: StreamIO) => Promise<Status>;

class ChannelWriter extends Writable {
  readonly #ws: WebSocket;
  readonly #protocol: ChannelProtocol;
  readonly #channel: number;
  constructor(ws: WebSocket, protocol: ChannelProtocol, channel: number) {
    super();
    this.#ws = ws;
    this.#protocol = protocol;
    this.#channel = channel;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    // A client that has gone just loses the output; the process runs on until its stdin ends.
    if (this.#ws.readyState !== this.#ws.OPEN || data.length === 0) return cb();
    this.#ws.send(encodeFrame(this.#protocol, this.#channel, data), () => cb());
  }
}

/** Runs `body` with streams tied to `ws`, then sends its status and closes. Resolves when the socket is closed. */
export async function runWebSocketSession(ws: WebSocket, protocol: ChannelProtocol, opts: SessionOptions, body: SessionBody): Promise<void> {
  const stdin = opts.stdin ? new PassThrough() : undefined;
  const resize = opts.tty && protocol.resize ? new TerminalSizeQueue() : undefined;
  const gone = new AbortController();
  let done = false;
  const closed = new Promise<void>((resolve) => ws.once("close", () => resolve()));
  // A client that leaves before the end aborts the process; after the status it is just the goodbye.
  ws.once("close", () => {
    if (!done) gone.abort(new Error("the client closed the stream"));
  });
  const endInput = (): void => {
    stdin?.end();
    resize?.end();
  };
  ws.on("message", (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const buf = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    const frame = decodeFrame(protocol, buf, isBinary);
    if (!frame) return;
    if (frame.channel === STDIN) {
      if (stdin && !stdin.writableEnded && frame.data.length > 0) stdin.write(frame.data);
    } else if (frame.channel === RESIZE) {
      resize?.pushJson(frame.data.toString("utf8"));
    } else if (frame.channel === CLOSE && protocol.close) {
      if (frame.data[0] === STDIN) stdin?.end();
    }
  });
  ws.once("close", endInput);
  ws.on("error", () => ws.terminate());

  const io: StreamIO = { tty: opts.tty, signal: gone.signal };
  if (stdin) io.stdin = stdin;
  if (opts.stdout) io.stdout = new ChannelWriter(ws, protocol, STDOUT);
  if (opts.stderr && !opts.tty) io.stderr = new ChannelWriter(ws, protocol, STDERR);
  if (resize) io.resize = resize;

  const status = await body(io);
  done = true;
  await Promise.all([io.stdout, io.stderr].map((w) => (w ? finished(w as Writable) : undefined)));
  endInput();
  if (ws.readyState === ws.OPEN) {
    const errorFrame = statusFrame(protocol, status);
    if (errorFrame) ws.send(encodeFrame(protocol, ERROR, errorFrame));
    ws.close(1000);
  }
  await closed;
}

/** The error channel's bytes: the JSON Status for v4+, else the message of a failure (nothing on success). */
function statusFrame(protocol: ChannelProtocol, status: Status): Buffer | undefined {
  if (protocol.statusJson) return Buffer.from(JSON.stringify(status));
  if (status.status === "Success") return undefined;
  return Buffer.from(status.message ?? "error");
}

function finished(w: Writable): Promise<void> {
  if (w.writableFinished) return Promise.resolve();
  return new Promise((resolve) => {
    w.once("finish", () => resolve());
    w.once("error", () => resolve());
    if (!w.writableEnded) w.end();
  });
}
