/**
 * Processes in a container: `crun exec` with pipes, or under a pty (@lydell/node-pty,
 * runtime-notes §8) for `-t`.
 */
import { spawn } from "node:child_process";
import { UnavailableError } from "../errdefs/index.js";
import type { StreamIO } from "./cri.js";
import { runtimeMessage } from "./run-tool.js";

/** What crun and runc print when they could not start the exec'd process (they then exit 255). */
const RUNTIME_FAILURE = /executable file .*not found|exec failed:|OCI runtime|level=error msg=|no such file or directory/i;
const HOLD_MS = 100;
/** How much of a stream's start is kept to recognise the runtime's own error. */
const FIRST_BYTES = 4096;

/** The runtime's error out of the exec's first output, when that is all the output there was and the exit was 255. */
export function execFailure(code: number, held: string): string | undefined {
  if (code !== 255) return undefined;
  // eslint-disable-next-line no-control-regex
  const text = held.replace(/\u001b\[[0-9;]*m/g, "").replace(/\r/g, "");
  if (!RUNTIME_FAILURE.test(text)) return undefined;
  const line = text.split("\n").map((l) => l.trim()).filter((l) => l !== "").pop() ?? "";
  return runtimeMessage(line.replace(/^(?:\S+Z: )+/, "").replace(/^ERRO\[\d+\]\s*/, "")) || line;
}

/**
 * Holds a stream's first bytes for HOLD_MS, so that when the runtime itself failed (exit 255 and
 * its error is all there is) the caller can report that error instead of passing it on as output.
 */
class HeldOutput {
  #held: Buffer[] = [];
  #holding = true;
  /** The stream's first bytes, kept after the hold ends: on a loaded host the runtime's error may come later than HOLD_MS. */
  #first: Buffer[] = [];
  #firstBytes = 0;
  readonly #out: NodeJS.WritableStream | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(out: NodeJS.WritableStream | undefined) {
    this.#out = out;
    this.#timer = setTimeout(() => this.flush(), HOLD_MS);
  }

  write(d: Buffer): void {
    if (this.#firstBytes < FIRST_BYTES) {
      this.#first.push(d);
      this.#firstBytes += d.length;
    }
    if (this.#holding) this.#held.push(d);
    else this.#out?.write(d);
  }

  get heldText(): string {
    return Buffer.concat(this.#first).toString("utf8");
  }

  flush(): void {
    clearTimeout(this.#timer);
    if (!this.#holding) return;
    this.#holding = false;
    for (const d of this.#held) this.#out?.write(d);
    this.#held = [];
  }

  drop(): void {
    clearTimeout(this.#timer);
    this.#holding = false;
    this.#held = [];
  }
}

/** Runs `file args` with the streams' pipes; resolves with its exit code, rejects when the runtime could not start it. */
export function execWithPipes(file: string, args: readonly string[], io: StreamIO): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: [io.stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    if (io.stdin && child.stdin) {
      io.stdin.pipe(child.stdin);
      child.stdin.on("error", () => undefined);
    }
    const err = new HeldOutput(io.stderr ?? io.stdout);
    // the runtime's own failure prints nothing on stdout: a process that wrote there did start
    let started = false;
    child.stdout?.on("data", (d: Buffer) => {
      started = true;
      err.flush();
      io.stdout?.write(d);
    });
    child.stderr?.on("data", (d: Buffer) => err.write(d));
    child.on("error", (e) => reject(new UnavailableError(`exec ${file}: ${e.message}`, { cause: e })));
    child.on("close", (code, signal) => {
      if (io.stdin && child.stdin) io.stdin.unpipe(child.stdin);
      const status = code ?? (signal ? 128 + signalNumber(signal) : 1);
      const failure = started ? undefined : execFailure(status, err.heldText);
      if (failure !== undefined) {
        err.drop();
        reject(new UnavailableError(failure));
        return;
      }
      err.flush();
      resolve(status);
    });
  });
}

/** Runs `file args` under a pty, applying the resize events; resolves with its exit code. */
export async function execWithPty(file: string, args: readonly string[], io: StreamIO, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const pty = await import("@lydell/node-pty");
  const sizes = io.resize?.[Symbol.asyncIterator]();
  // the client's first size is usually there already: start the terminal with it, but never wait for one
  let pending = sizes?.next();
  const first = pending ? await Promise.race([pending, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]) : undefined;
  if (first !== undefined) pending = first.done ? undefined : sizes?.next();
  const initial = first !== undefined && !first.done ? first.value : { width: 80, height: 24 };
  const term = pty.spawn(file, [...args], { name: "xterm", cols: Math.max(1, initial.width), rows: Math.max(1, initial.height), env: env as Record<string, string> });
  let open = true;
  void (async () => {
    if (!sizes) return;
    for (;;) {
      if (!pending) return;
      const next = await pending;
      pending = sizes.next();
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
  let lastData = Date.now();
  const out = new HeldOutput(io.stdout);
  term.onData((d) => {
    lastData = Date.now();
    out.write(Buffer.from(d, "binary"));
  });
  return new Promise((resolve, reject) => {
    term.onExit(({ exitCode, signal }) => {
      open = false;
      io.stdin?.removeListener("data", onInput);
      // the pty's last output can arrive after the exit: wait for 20 ms of quiet (at most 200 ms)
      const exitedAt = Date.now();
      const drain = (): void => {
        const now = Date.now();
        if (now - lastData < 20 && now - exitedAt < 200) {
          setTimeout(drain, 10);
          return;
        }
        const status = signal ? 128 + signal : exitCode;
        const failure = execFailure(status, out.heldText);
        if (failure !== undefined) {
          out.drop();
          reject(new UnavailableError(failure));
          return;
        }
        out.flush();
        resolve(status);
      };
      setTimeout(drain, 20);
    });
  });
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGUSR1: 10, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

export function signalNumber(name: string): number {
  return SIGNALS[name] ?? 15;
}
