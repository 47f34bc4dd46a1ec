/**
 * Running the real tools (skopeo, podman, docker-registry, podyard's CLI) from tests:
 * output captured, a time limit, and every child tracked so a test file can kill what
 * is still alive when it ends (`after(killLeftoverChildren)`), each by its own handle.
 */
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** written to the child's stdin, which is then closed (default: nothing) */
  input?: string | Buffer;
  cwd?: string;
  /** the child is killed after this long (default 60 s) */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();

/** Kills the children of this file that are still running. */
export function killLeftoverChildren(): void {
  for (const child of live) child.kill("SIGKILL");
}

export function runTool(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, ...(opts.cwd ? { cwd: opts.cwd } : {}), stdio: ["pipe", "pipe", "pipe"] });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d: string) => { stderr += d; });
    child.stdin.on("error", () => {}); // a child that exits without reading its input
    child.stdin.end(opts.input ?? "");
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      live.delete(child);
      reject(err);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** What a run did, for assertion messages. */
export function describeRun(cmd: string, args: readonly string[], r: RunResult): string {
  return `${cmd} ${args.join(" ")} → exit ${r.code ?? r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** Runs and asserts exit 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await runTool(cmd, args, opts);
  assert.equal(r.code, 0, describeRun(cmd, args, r));
  return r;
}

/** Whether `tool` runs; otherwise skips the test, saying how to install it. */
export async function haveTool(t: TestContext, tool: string, hint = `apt-get install ${tool}`): Promise<boolean> {
  try {
    await runTool(tool, ["--version"]);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    t.skip(`${tool} not installed: ${hint}`);
    return false;
  }
}
