/**
 * Port forwarding over SPDY (kubelet cri/streaming/portforward/httpstream.go, protocol
 * `portforward.k8s.io`): for each connection the client opens an error stream and a data stream
 * with the headers `streamType`, `port` and `requestID`; once both are there the kubelet dials the
 * port in the pod's network namespace and copies both ways. The error stream carries a failure's
 * text, and ends (FIN) when the connection is over: the client waits for that end.
 */
import type { Duplex } from "node:stream";
import type { RuntimeService } from "../../runtime/index.js";
import { SpdySession, type SpdyStream } from "./spdy/index.js";

interface Pair {
  error?: SpdyStream;
  data?: SpdyStream;
  started: boolean;
}

export function servePortForwardSpdy(conn: Duplex, runtime: RuntimeService, target: { sandboxId: string; podName: string; podUid: string }): SpdySession {
  const pairs = new Map<string, Pair>();
  const start = (key: string, pair: Pair, port: number): void => {
    const { error, data } = pair;
    if (!error || !data || pair.started) return;
    pair.started = true;
    const fail = (err: Error): void => {
      error.write(Buffer.from(`error forwarding port ${port} to pod ${target.podName}, uid ${target.podUid}: ${err.message}`));
      error.end();
      data.end();
      pairs.delete(key);
    };
    const pending: (Buffer | null)[] = [];
    let pod: Duplex | undefined;
    let gone = false;
    data.onData = (d) => {
      if (!pod) pending.push(d);
      else if (d === null) pod.end();
      else pod.write(d);
    };
    const reset = (): void => {
      gone = true;
      pod?.destroy();
      pairs.delete(key);
    };
    data.onReset = reset;
    error.onReset = reset;
    runtime.portForward(target.sandboxId, port).then(
      (c) => {
        if (gone) return void c.destroy();
        pod = c;
        c.on("data", (d: Buffer) => data.write(d));
        c.on("end", () => data.end());
        c.on("error", (err: Error) => fail(err));
        c.on("close", () => {
          data.end();
          error.end();
          pairs.delete(key);
        });
        for (const d of pending.splice(0)) {
          if (d === null) c.end();
          else c.write(d);
        }
      },
      (err: Error) => fail(err),
    );
  };
  return new SpdySession(conn, (stream) => {
    const type = stream.headers.get("streamtype");
    const port = Number(stream.headers.get("port"));
    const key = stream.headers.get("requestid") ?? String(port);
    if ((type !== "error" && type !== "data") || !Number.isInteger(port) || port < 1 || port > 65535) {
      stream.reset();
      return;
    }
    const pair = pairs.get(key) ?? { started: false };
    pairs.set(key, pair);
    if (type === "error") {
      // The client never writes on it; its FIN (sent at once) needs nothing from us.
      stream.onData = () => undefined;
      pair.error = stream;
    } else {
      pair.data = stream;
    }
    start(key, pair, port);
  });
}
