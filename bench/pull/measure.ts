// Runs one command as a child process and measures its wall time and peak RSS. The peak RSS comes from GNU
// time (`/usr/bin/time -f %M`, Debian package `time`: the largest RSS of the process and its waited-for
// descendants) or, without it, from polling the child's VmHWM in /proc (the process itself only).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";

export const GNU_TIME = "/usr/bin/time";
const TAIL_BYTES = 8192;
const POLL_MS = 20;

export type RssSource = "GNU time" | "VmHWM polling";

let forceProc = false;

/** `proc` polls VmHWM even where GNU time is installed (for comparison, or to test the fallback). */
export function preferRssSource(from: "time" | "proc"): void {
  forceProc = from === "proc";
}

export function rssSource(): RssSource {
  return !forceProc && existsSync(GNU_TIME) ? "GNU time" : "VmHWM polling";
}

export interface RunResult {
  readonly command: string;
  /** Spawn to exit, measured by this process. */
  readonly wallMs: number;
  /** Peak resident set size in bytes, undefined when it could not be read. */
  readonly peakRss: number | undefined;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function ok(r: RunResult): boolean {
  return r.code === 0 && r.signal === null;
}

/** A one-paragraph account of a failed run, for the report. */
export function failure(r: RunResult): string {
  const status = r.signal !== null ? `killed by ${r.signal}` : `exit ${String(r.code)}`;
  const out = [r.stderr.trim(), r.stdout.trim()].filter((s) => s !== "").join("\n");
  return `${r.command} → ${status}${out === "" ? "" : `:\n${out}`}`;
}

/** Every child still running, so the cleanup can kill them (by their own handle) on a signal. */
const live = new Set<ChildProcess>();

/** SIGKILL to the child's own process group (GNU time and the command it runs), created by `spawn` below. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    child.kill("SIGKILL");
  }
}

let stopped = false;

/** True once killLiveChildren ran: the benchmark is being stopped. */
export function stopping(): boolean {
  return stopped;
}

/** Kills every child still running and refuses to start more (the benchmark is being stopped). */
export function killLiveChildren(): void {
  stopped = true;
  for (const child of live) killGroup(child);
}

/** Kills every child still running (see killLiveChildren) and waits, up to 5 s, until they are gone. */
export async function stopChildren(): Promise<void> {
  const waiting = [...live].map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve();
    else c.once("close", () => resolve());
  }));
  killLiveChildren();
  await Promise.race([Promise.all(waiting), new Promise((r) => setTimeout(r, 5000).unref())]);
}

// Children run in process groups of their own, so they would outlive this process: never let them.
process.once("exit", killLiveChildren);

async function readVmHWM(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m?.[1] === undefined ? undefined : Number(m[1]) * 1024;
  } catch {
    return undefined;
  }
}

function keepTail(s: string, chunk: string): string {
  const joined = s + chunk;
  return joined.length > TAIL_BYTES ? joined.slice(-TAIL_BYTES) : joined;
}

/**
 * Runs `cmd args` with `env` in `cwd`; never throws for a failing command (the result says how it ended).
 * `scratch` is a directory where GNU time's report file may be written.
 */
export async function measure(
  cmd: string,
  args: readonly string[],
  opts: { env: NodeJS.ProcessEnv; cwd: string; scratch: string; timeoutMs: number },
): Promise<RunResult> {
  const command = [cmd, ...args].join(" ");
  if (stopped) throw new Error(`not started, the benchmark is stopping: ${command}`);
  const useTime = rssSource() === "GNU time";
  const rssFile = join(opts.scratch, `rss-${process.pid}-${Date.now()}.txt`);
  const [file, argv] = useTime ? [GNU_TIME, ["-f", "%M", "-o", rssFile, cmd, ...args]] : [cmd, [...args]];

  const t0 = performance.now();
  // A process group of its own, so a timeout or a signal reaches the command under GNU time too.
  const child = spawn(file, argv, { env: opts.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
  live.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout = keepTail(stdout, d)));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr = keepTail(stderr, d)));

  let polled: number | undefined;
  let poller: NodeJS.Timeout | undefined;
  if (!useTime && child.pid !== undefined) {
    const pid = child.pid;
    poller = setInterval(() => {
      void readVmHWM(pid).then((v) => {
        if (v !== undefined) polled = Math.max(polled ?? 0, v);
      });
    }, POLL_MS);
  }
  const timer = setTimeout(() => {
    stderr = keepTail(stderr, `\n[killed after ${opts.timeoutMs} ms]`);
    killGroup(child);
  }, opts.timeoutMs);

  const { code, signal, spawnError } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; spawnError?: Error }>(
    (resolve) => {
      child.once("error", (err) => resolve({ code: null, signal: null, spawnError: err }));
      child.once("close", (c, s) => resolve({ code: c, signal: s }));
    },
  );
  const wallMs = performance.now() - t0;
  clearTimeout(timer);
  if (poller !== undefined) clearInterval(poller);
  live.delete(child);
  if (spawnError !== undefined) stderr = keepTail(stderr, `failed to spawn ${file}: ${spawnError.message}`);

  let peakRss = polled;
  if (useTime) {
    try {
      // GNU time writes "Command exited with non-zero status N" or "Command terminated by signal N" first.
      const lines = (await readFile(rssFile, "utf8")).split("\n").map((l) => l.trim()).filter((l) => l !== "");
      const kib = Number(lines[lines.length - 1]);
      if (Number.isFinite(kib) && kib > 0) peakRss = kib * 1024;
    } catch {
      // no report: the command could not be run, stderr says why
    }
    await rm(rssFile, { force: true });
  }
  return { command, wallMs, peakRss, code, signal, stdout, stderr };
}
