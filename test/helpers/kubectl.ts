/**
 * The real kubectl from tests: the binary's path, skipping when it is absent, a run with output
 * captured, `kubectl port-forward` until it says where it listens, and a session in a terminal.
 */
import { existsSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import type { TestContext } from "node:test";
import pty from "@lydell/node-pty";
import { runTool } from "./run-tool.js";

export const KUBECTL = "/usr/bin/kubectl";

export interface KubectlRun {
  /** The exit code; -1 when it was killed. */
  code: number;
  stdout: string;
  stderr: string;
}

/** True (and the test skipped, saying why) when `bin` is not installed. */
export function kubectlMissing(t: TestContext, bin = KUBECTL): boolean {
  if (existsSync(bin)) return false;
  process.stderr.write(`skipping: ${bin} is not installed\n`);
  t.skip(`${bin} is not installed`);
  return true;
}

/** Runs kubectl with `env` (its kubeconfig, HOME, cache), `stdin` written and closed. */
export async function kubectl(env: NodeJS.ProcessEnv, args: string[], stdin = "", bin = KUBECTL): Promise<KubectlRun> {
  const r = await runTool(bin, args, { env, input: stdin });
  return { code: r.code ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export interface PortForward {
  child: ChildProcess;
  /** The local port kubectl listens on. */
  local: number;
  /** What kubectl has written to stderr so far. */
  stderr(): string;
}

/**
 * Starts `kubectl port-forward <target> :<port> --address 127.0.0.1` (stopped after the test) and
 * resolves once it prints `Forwarding from 127.0.0.1:<local> -> <port>`; rejects if it exits first.
 */
export async function portForward(t: TestContext, env: NodeJS.ProcessEnv, target: string, port: number, bin = KUBECTL): Promise<PortForward> {
  const child = spawn(bin, ["port-forward", target, `:${port}`, "--address", "127.0.0.1"], { env, stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const local = await new Promise<number>((resolve, reject) => {
    let out = "";
    const forwarding = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${port}`);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = forwarding.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`kubectl port-forward exited ${code}: ${stderr}`)));
  });
  return { child, local, stderr: () => stderr };
}

/** One step of a terminal session: once `ready(screen)` holds, `type` is typed. */
export interface TerminalStep {
  ready(screen: string): boolean;
  type: string;
}

/**
 * Runs kubectl in a pseudo-terminal of `cols`×`rows` (killed after the test if still there),
 * typing each step's text in turn once the screen is ready for it; resolves with the exit code
 * and everything the terminal showed.
 */
export async function kubectlInTerminal(
  t: TestContext, env: NodeJS.ProcessEnv, args: string[], size: { cols: number; rows: number }, steps: TerminalStep[], bin = KUBECTL,
): Promise<{ code: number; screen: string }> {
  const term = pty.spawn(bin, args, { ...size, env: env as Record<string, string> });
  t.after(() => {
    try {
      term.kill();
    } catch {
      // already gone
    }
  });
  let screen = "";
  const code = await new Promise<number>((resolve) => {
    let next = 0;
    term.onData((d) => {
      screen += d;
      const step = steps[next];
      if (step && step.ready(screen)) {
        next++;
        term.write(step.type);
      }
    });
    term.onExit(({ exitCode }) => resolve(exitCode));
  });
  return { code, screen };
}
