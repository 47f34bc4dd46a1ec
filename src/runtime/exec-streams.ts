/**
 * Processes in a container: `crun exec` with pipes, or under a pty (@lydell/node-pty,
 * runtime-notes §8) for `-t`; and a stream to a port inside a sandbox's network namespace.
 */
import { spawn } from "node:child_process";
import { Duplex } from "node:stream";
import { UnavailableError } from "../errdefs/index.js";
import type { StreamIO } from "./cri.js";

/** Runs `file args` with the streams' pipes; resolves with its exit code. */
export function execWithPipes(file: string, args: readonly string[], io: StreamIO): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [io.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    if (io.stdin && child.stdin) {
      io.stdin.pipe(child.stdin);
      child.stdin.on("error", () => undefined);
    }
    child.stdout?.on("data", (d: Buffer) => io.stdout?.write(d));
    child.stderr?.on("data", (d: Buffer) => (io.stderr ?? io.stdout)?.write(d));
    child.on("error", (err) => reject(new UnavailableError(`exec ${file}: ${err.message}`, { cause: err })));
    child.on("close", (code, signal) => {
      if (io.stdin && child.stdin) io.stdin.unpipe(child.stdin);
      resolve(code ?? (signal ? 128 + signalNumber(signal) : 1));
    });
  });
}

/** Runs `file args` under a pty, applying the resize events; resolves with its exit code. */
export async function execWithPty(file: string, args: readonly string[], io: StreamIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const pty = await import("@lydell/node-pty");
  const sizes = io.resize?.[Symbol.asyncIterator]();
  // the first size may already be there; do not wait for one
  const term = pty.spawn(file, [...args], { name: "xterm", cols: 80, rows: 24, env: env as Record<string, string> });
  let open = true;
  void (async () => {
    if (!sizes) return;
    for (;;) {
      const next = await sizes.next();
      if (next.done || !open) return;
      try {
        term.resize(Math.max(1, next.value.width), Math.max(1, next.value.height));
      } catch {
        return;
      }
    }
  })();
  const onInput = (d: Buffer | string): void => term.write(typeof d === "string" ? d : d.toString("binary"));
  io.stdin?.on("data", onInput);
  term.onData((d) => io.stdout?.write(Buffer.from(d, "binary")));
  return new Promise((resolve) => {
    term.onExit(({ exitCode, signal }) => {
      open = false;
      io.stdin?.removeListener("data", onInput);
      resolve(signal ? 128 + signal : exitCode);
    });
  });
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export function signalNumber(name: string): number {
  return SIGNALS[name] ?? 15;
}

const FORWARDER = `
const net = require("node:net");
const s = net.connect({ host: "127.0.0.1", port: Number(process.argv[1]) });
s.on("connect", () => { process.stderr.write("connected\\n"); process.stdin.pipe(s); s.pipe(process.stdout); });
s.on("error", (e) => { process.stderr.write(e.message); process.exitCode = 1; process.stdin.destroy(); });
s.on("end", () => process.stdout.end());
process.stdin.on("end", () => s.end());
`;

/** A Duplex connected to 127.0.0.1:`port` inside the network namespace `netns` (a small Node child under nsenter). */
export function forwardPort(netns: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const child = spawn("nsenter", [`--net=${netns}`, process.execPath, "-e", FORWARDER, String(port)], { stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    let settled = false;
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!settled && stderr.startsWith("connected\n")) {
        settled = true;
        stderr = stderr.slice("connected\n".length);
        resolve(duplex);
      }
    });
    const duplex = new Duplex({
      read() {
        child.stdout.resume();
      },
      write(chunk: Buffer, _enc, cb) {
        child.stdin.write(chunk, cb);
      },
      final(cb) {
        child.stdin.end();
        cb();
      },
      destroy(err, cb) {
        child.kill("SIGKILL");
        cb(err);
      },
    });
    child.stdout.on("data", (d: Buffer) => {
      if (!duplex.push(d)) child.stdout.pause();
    });
    child.stdout.on("end", () => duplex.push(null));
    child.on("error", (err) => {
      if (!settled) {
        settled = true;
        reject(new UnavailableError(`port-forward to ${port}: ${err.message}`));
      } else duplex.destroy(err);
    });
    child.on("close", (code) => {
      if (code !== 0) {
        const err = new UnavailableError(`port-forward to 127.0.0.1:${port} in the pod's network namespace: ${stderr.trim() || `exit ${code}`}`);
        if (!settled) {
          settled = true;
          reject(err);
        } else duplex.destroy(err);
      }
    });
  });
}
