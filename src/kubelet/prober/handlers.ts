/**
 * The three probe handlers (pkg/probe/{exec,http,tcp}): exec in the container through the
 * runtime; httpGet and tcpSocket connect through `runtime.portForward`, since the pod's IP lives
 * only inside its network namespace (a `host` other than the pod IP is dialled from the node).
 * Each returns Success, Warning or Failure with the kubelet's output texts, or throws when the
 * probe could not be run at all.
 */
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { Duplex } from "node:stream";
import type { Container, Probe } from "../../api/index.js";
import { isConnectionRefused, type RuntimeService } from "../../runtime/index.js";
import { errorMessage } from "../format.js";
import { KUBELET_VERSION } from "../node-status.js";

export type HandlerResult = { result: "Success" | "Warning" | "Failure"; output: string };

export interface ProbeTarget {
  runtime: RuntimeService;
  containerId: string;
  sandboxId: string;
  podIP: string;
  container: Container;
}

export function resolvePort(port: number | string, container: Container): number {
  if (typeof port === "number") return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = container.ports?.find((x) => x.name === port);
  if (!p) throw new Error(`couldn't find port: ${port} in ${JSON.stringify(container.ports ?? [])}`);
  return p.containerPort;
}

async function connect(t: ProbeTarget, host: string | undefined, port: number, timeoutMs: number): Promise<Duplex> {
  const ip = host || t.podIP;
  const dial = `dial tcp ${ip}:${port}`;
  if (host && host !== t.podIP) {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port, timeout: timeoutMs });
      s.once("connect", () => resolve(s));
      s.once("timeout", () => { s.destroy(); reject(new Error(`${dial}: i/o timeout`)); });
      s.once("error", (err: NodeJS.ErrnoException) => reject(new Error(err.code === "ECONNREFUSED" ? `${dial}: connect: connection refused` : `${dial}: ${err.message}`)));
    });
  }
  // the pod IP lives only inside the pod's netns: connect there through the runtime, within the
  // probe's timeout, and word failures as Go's dialer does
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${dial}: i/o timeout`)), timeoutMs);
  });
  const forwarded = t.runtime.portForward(t.sandboxId, port);
  try {
    return await Promise.race([forwarded, timedOut]);
  } catch (err) {
    forwarded.then((s) => s.destroy(), () => {});
    if (isConnectionRefused(err)) throw new Error(`${dial}: connect: connection refused`);
    throw err instanceof Error && err.message.startsWith(dial) ? err : new Error(`${dial}: ${errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

export async function runExecProbe(t: ProbeTarget, probe: Probe): Promise<HandlerResult> {
  const cmd = probe.exec?.command ?? [];
  const timeout = probe.timeoutSeconds ?? 1;
  try {
    const r = await t.runtime.execSync(t.containerId, cmd, timeout);
    const output = Buffer.concat([r.stdout, r.stderr]).toString("utf8");
    return r.exitCode === 0 ? { result: "Success", output } : { result: "Failure", output };
  } catch (err) {
    if (/timed? ?out|deadline/i.test(errorMessage(err))) return { result: "Failure", output: `command "${cmd.join(" ")}" timed out` };
    throw err;
  }
}

export async function runTCPProbe(t: ProbeTarget, probe: Probe): Promise<HandlerResult> {
  const a = probe.tcpSocket;
  if (!a) throw new Error("no tcpSocket action");
  const port = resolvePort(a.port, t.container);
  try {
    const s = await connect(t, a.host, port, (probe.timeoutSeconds ?? 1) * 1000);
    s.destroy();
    return { result: "Success", output: "" };
  } catch (err) {
    return { result: "Failure", output: errorMessage(err) };
  }
}

export async function runHTTPProbe(t: ProbeTarget, probe: Probe): Promise<HandlerResult> {
  const a = probe.httpGet;
  if (!a) throw new Error("no httpGet action");
  const port = resolvePort(a.port, t.container);
  const host = a.host || t.podIP;
  const scheme = (a.scheme ?? "HTTP").toLowerCase();
  const path = a.path ? (a.path.startsWith("/") ? a.path : `/${a.path}`) : "/";
  const url = `${scheme}://${host}:${port}${path}`;
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  let sock: Duplex;
  try {
    sock = await connect(t, a.host, port, timeoutMs);
  } catch (err) {
    return { result: "Failure", output: `Get "${url}": ${errorMessage(err)}` };
  }
  if (scheme === "https") sock = tls.connect({ socket: sock, rejectUnauthorized: false, servername: net.isIP(host) ? undefined : host });
  const [major, minor] = KUBELET_VERSION.replace(/^v/, "").split(".");
  const headers: Record<string, string> = { "User-Agent": `kube-probe/${major}.${minor}`, Accept: "*/*", Host: `${host}:${port}`, Connection: "close" };
  for (const h of a.httpHeaders ?? []) headers[h.name] = h.value;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: HandlerResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done({ result: "Failure", output: `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` }), timeoutMs);
    const req = http.request({ method: "GET", path, headers, createConnection: () => sock as net.Socket }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        if (size < 10240) chunks.push(c.subarray(0, 10240 - size));
        size += c.length;
      });
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) done({ result: "Success", output: body });
        else if (code >= 300 && code < 400) done({ result: "Warning", output: body });
        else done({ result: "Failure", output: `HTTP probe failed with statuscode: ${code}` });
      });
      res.on("error", (err) => done({ result: "Failure", output: `Get "${url}": ${err.message}` }));
    });
    req.on("error", (err) => done({ result: "Failure", output: `Get "${url}": ${/socket hang up|ECONNRESET/.test(err.message) ? `dial tcp ${host}:${port}: connect: connection refused` : err.message}` }));
    req.end();
  });
}
