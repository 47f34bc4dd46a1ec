/**
 * A stream to 127.0.0.1:PORT inside a sandbox's network namespace, one small process per
 * connection: `nsenter --net=<ns file> /bin/busybox nc 127.0.0.1 PORT` (about 1 MB, a few ms;
 * Node cannot setns itself). The promise resolves once the TCP connection is established and
 * rejects with a refused-connection error (cause.code ECONNREFUSED) when nothing listens, so a
 * prober can tell "refused" from "connected". Without the host's busybox, a Node child does it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { accessSync, constants as fsConstants } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import { Duplex } from "node:stream";
import { UnavailableError } from "../errdefs/index.js";

/** Debian's busybox on the host (package busybox); its small `nc` relays stdin/stdout to one TCP connection. */
export const HOST_BUSYBOX = "/bin/busybox";
/** Established connections on loopback are seen within a few ms; a connection still pending after this is given up. */
const CONNECT_TIMEOUT_MS = 30_000;

let busyboxPresent: boolean | undefined;
function hostBusybox(): boolean {
  if (busyboxPresent === undefined) {
    try {
      accessSync(HOST_BUSYBOX, fsConstants.X_OK);
      busyboxPresent = true;
    } catch {
      busyboxPresent = false;
    }
  }
  return busyboxPresent;
}

/** Node's own error for a refused connect, as the cause of an UnavailableError naming the port. */
export function connectionRefused(port: number): UnavailableError {
  const cause = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), {
    code: "ECONNREFUSED", errno: -111, syscall: "connect", address: "127.0.0.1", port,
  });
  return new UnavailableError(`port-forward to 127.0.0.1:${port} in the pod's network namespace: ${cause.message}`, { cause });
}

/** Whether `err` (or an error in its cause chain) is a refused connection. */
export function isConnectionRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === "ECONNREFUSED") return true;
  }
  return false;
}

const NODE_FORWARDER = `
const net = require("node:net");
const s = net.connect({ host: "127.0.0.1", port: Number(process.argv[1]) });
s.on("connect", () => { process.stderr.write("connected\\n"); process.stdin.pipe(s); s.pipe(process.stdout); });
s.on("error", (e) => { process.stderr.write(e.message); process.exitCode = 1; process.stdin.destroy(); });
s.on("end", () => process.stdout.end());
process.stdin.on("end", () => s.end());
`;

/** A Duplex connected to 127.0.0.1:`port` inside the network namespace `netns`; `useBusybox: false` forces the Node child. */
export function forwardPort(netns: string, port: number, opts: { useBusybox?: boolean } = {}): Promise<Duplex> {
  const nc = opts.useBusybox ?? hostBusybox();
  const args = nc
    ? [`--net=${netns}`, HOST_BUSYBOX, "nc", "127.0.0.1", String(port)]
    : [`--net=${netns}`, process.execPath, "-e", NODE_FORWARDER, String(port)];
  const child = spawn("nsenter", args, { stdio: ["pipe", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let stderr = "";
    let settled = false;
    const duplex = new Duplex({
      read() {
        child.stdout.resume();
      },
      write(chunk: Buffer, _enc, cb) {
        child.stdin.write(chunk, cb);
      },
      final(cb) {
        // nc shuts down its sending half on stdin's end, so the server sees EOF and can still answer
        child.stdin.end();
        cb();
      },
      destroy(err, cb) {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        cb(err);
      },
    });
    const connected = (): void => {
      if (settled) return;
      settled = true;
      resolve(duplex);
    };
    const failed = (err: Error): void => {
      if (!settled) {
        settled = true;
        child.kill("SIGKILL");
        reject(err);
      } else duplex.destroy(err);
    };
    child.stdin.on("error", () => undefined);
    child.stdout.on("data", (d: Buffer) => {
      connected();
      if (!duplex.push(d)) child.stdout.pause();
    });
    child.stdout.on("end", () => duplex.push(null));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!nc && stderr.startsWith("connected\n")) {
        stderr = stderr.slice("connected\n".length);
        connected();
      }
    });
    child.on("error", (err) => failed(new UnavailableError(`port-forward to 127.0.0.1:${port}: ${err.message}`, { cause: err })));
    child.on("close", (code) => {
      if (code === 0) {
        // nc exits 0 when the server closed the connection: it was connected (its output is already pushed)
        connected();
        return;
      }
      if (/refused/i.test(stderr)) failed(connectionRefused(port));
      else failed(new UnavailableError(`port-forward to 127.0.0.1:${port} in the pod's network namespace: ${stderr.trim() || `exit ${code}`}`));
    });
    if (nc) void watchConnect(child, port, () => settled, connected, failed);
  });
}

/** busybox nc says nothing on connect: the netns's TCP table (seen through the child's /proc) shows its socket established. */
async function watchConnect(child: ChildProcessWithoutNullStreams, port: number, done: () => boolean, connected: () => void, failed: (err: Error) => void): Promise<void> {
  const started = Date.now();
  for (let i = 0; !done(); i++) {
    const pid = child.pid;
    if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    if (await established(pid)) {
      connected();
      return;
    }
    if (Date.now() - started > CONNECT_TIMEOUT_MS) {
      failed(new UnavailableError(`port-forward to 127.0.0.1:${port} in the pod's network namespace: connect: i/o timeout`));
      return;
    }
    // loopback connects are immediate: poll fast at first, then back off
    await new Promise((r) => setTimeout(r, i < 20 ? 1 : 10));
  }
}

async function established(pid: number): Promise<boolean> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const m = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ""));
    if (m?.[1]) inodes.add(m[1]);
  }
  if (inodes.size === 0) return false;
  const table = await readFile(`/proc/${pid}/net/tcp`, "utf8").catch(() => "");
  // fields: sl local rem st ... inode (10th); st 01 is ESTABLISHED
  return table.split("\n").slice(1).some((line) => {
    const f = line.trim().split(/\s+/);
    return f[3] === "01" && f[9] !== undefined && inodes.has(f[9]);
  });
}
