/**
 * exec and attach over SPDY/3.1 (kubelet cri/streaming/remotecommand/httpstream.go), for kubectl
 * before 1.30, kubectl's fallback, and a real kube-apiserver: the client opens one SPDY stream
 * per role (header `streamType`: error, stdin, stdout, stderr, resize); once the expected ones are
 * there the command runs; the end is the status on the error stream (JSON for v4, text before).
 */
import { PassThrough, Writable } from "node:stream";
import type { Duplex } from "node:stream";
import type { Status } from "../../../api/index.js";
import type { Clock } from "../../../clock/index.js";
import type { StreamIO } from "../../../runtime/index.js";
import { SpdySession, type SpdyStream } from "../spdy/index.js";
import type { SessionBody, SessionOptions } from "./websocket-session.js";
import { TerminalSizeQueue } from "./terminal-size-queue.js";

/** What the kubelet speaks over SPDY, best first (v5 is WebSocket only). */
export const SPDY_STREAM_PROTOCOLS = ["v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io", "channel.k8s.io"];

/** The kubelet's streamCreationTimeout. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/** The first protocol the client lists that the kubelet speaks (httpstream.Handshake). */
export function negotiateSpdyProtocol(header: string | string[] | undefined): string | undefined {
  const offered = (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",").map((p) => p.trim()).filter((p) => p !== "");
  return offered.find((p) => SPDY_STREAM_PROTOCOLS.includes(p));
}

class StreamWriter extends Writable {
  readonly #stream: SpdyStream;
  constructor(stream: SpdyStream) {
    super();
    this.#stream = stream;
  }
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#stream.write(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    cb();
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.#stream.end();
    cb();
  }
}

/** Splits concatenated JSON objects (`{"Width":80,"Height":24}{…}`) as Go's json.Decoder reads them. */
function jsonObjects(onObject: (text: string) => void): (chunk: Buffer) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk.toString("utf8");
    let depth = 0;
    let start = -1;
    let consumed = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c === "{") {
        if (depth++ === 0) start = i;
      } else if (c === "}" && depth > 0 && --depth === 0) {
        onObject(buf.slice(start, i + 1));
        consumed = i + 1;
      }
    }
    buf = buf.slice(consumed);
  };
}

export interface SpdyRemoteCommandOptions extends SessionOptions {
  protocol: string;
  clock: Clock;
}

/** Runs one exec/attach on an upgraded connection that now speaks SPDY. Resolves when it is over. */
export function runSpdyRemoteCommand(conn: Duplex, opts: SpdyRemoteCommandOptions, body: SessionBody): Promise<void> {
  const expected = new Set<string>(["error"]);
  if (opts.stdin) expected.add("stdin");
  if (opts.stdout) expected.add("stdout");
  if (opts.stderr && !opts.tty) expected.add("stderr");
  if (opts.tty && opts.protocol !== "channel.k8s.io" && opts.protocol !== "v2.channel.k8s.io") expected.add("resize");
  const streams = new Map<string, SpdyStream>();
  const stdin = opts.stdin ? new PassThrough() : undefined;
  const resize = expected.has("resize") ? new TerminalSizeQueue() : undefined;
  const gone = new AbortController();

  return new Promise<void>((resolve) => {
    let started = false;
    let finished = false;
    const timeout = new AbortController();
    const session = new SpdySession(conn, (stream) => {
      const type = stream.headers.get("streamtype") ?? "";
      streams.set(type, stream);
      if (type === "stdin") stream.onData = (d) => (d === null ? stdin?.end() : stdin?.write(d));
      else if (type === "resize") {
        const feed = jsonObjects((t) => resize?.pushJson(t));
        stream.onData = (d) => (d === null ? undefined : feed(d));
      } else stream.onData = () => undefined;
      stream.onReset = () => {
        if (type === "stdin") stdin?.end();
        if (!finished) gone.abort(new Error("the client closed the stream"));
      };
      if (!started && [...expected].every((t) => streams.has(t))) {
        started = true;
        timeout.abort();
        void start();
      }
    });
    conn.once("close", () => {
      stdin?.end();
      resize?.end();
      if (!finished) gone.abort(new Error("the client closed the connection"));
      if (!started) resolve();
    });
    // Streams that never come: the kubelet gives up after streamCreationTimeout.
    opts.clock.sleep(STREAM_CREATION_TIMEOUT_MS, timeout.signal).then(() => {
      if (!started) {
        session.close();
        resolve();
      }
    }, () => undefined);

    const start = async (): Promise<void> => {
      const io: StreamIO = { tty: opts.tty, signal: gone.signal };
      if (stdin) io.stdin = stdin;
      const out = streams.get("stdout");
      const err = streams.get("stderr");
      if (out) io.stdout = new StreamWriter(out);
      if (err && !opts.tty) io.stderr = new StreamWriter(err);
      if (resize) io.resize = resize;
      const status = await body(io);
      finished = true;
      for (const w of [io.stdout, io.stderr]) if (w && !(w as Writable).writableEnded) (w as Writable).end();
      const errorStream = streams.get("error");
      const frame = statusText(opts.protocol, status);
      if (errorStream) {
        if (frame) errorStream.write(frame);
        errorStream.end();
      }
      resize?.end();
      session.end();
      resolve();
    };
  });
}

function statusText(protocol: string, status: Status): Buffer | undefined {
  if (protocol === "v4.channel.k8s.io") return Buffer.from(JSON.stringify(status));
  if (status.status === "Success") return undefined;
  return Buffer.from(status.message ?? "error");
}
