/**
 * e2e fixtures: a `podyard up` of the test's own (a child process in its own temporary home,
 * every port a free one), the real kubectl against it (a private KUBECACHEDIR per run), and
 * the tutorial's busybox stand-in pushed to its registry as library/alpine:latest.
 */
import type { TestContext } from "node:test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { UpInfo } from "../../../src/cli/up/state.js";
import type { BuiltBusyboxImage } from "../../../src/cli/tutorial/busybox-rootfs.js";
import { buildTestImage, pushLayout } from "../../helpers/images.js";
import { runTool, type RunOptions, type RunResult } from "../../helpers/run-tool.js";

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
export const KUBECTL = "/usr/bin/kubectl";

/**
 * The command line that runs podyard's CLI as users run it: bin/podyard.js, which runs the
 * build (dist/, made by set-up) when it is fresh and the sources through tsx otherwise, so the
 * e2e tests also catch what bundling breaks.
 */
export function podyardArgs(args: string[]): [string, string[]] {
  return [process.execPath, [join(REPO, "bin", "podyard.js"), ...args]];
}

export function runPodyard(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, argv] = podyardArgs(args);
  return runTool(cmd, argv, { cwd: REPO, ...opts });
}

/** Skips the test when the real kubectl is absent; true when it is there. */
export function needKubectl(t: TestContext, file: string): boolean {
  if (existsSync(KUBECTL)) return true;
  process.stderr.write(`${file}: skipping: ${KUBECTL} is not installed\n`);
  t.skip(`${KUBECTL} is not installed`);
  return false;
}

export interface UpNode {
  home: string;
  info: UpInfo;
  child: ChildProcess;
  /** stdout and stderr of `podyard up` so far */
  output(): string;
  kubectl(args: string[], opts?: RunOptions & { kubectl?: string }): Promise<RunResult>;
  /** env for tools that read KUBECONFIG */
  env: NodeJS.ProcessEnv;
  /** SIGTERM, then the wait for the exit (SIGKILL after 90 s) */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface StartUpOptions {
  home?: string;
  nodeName?: string;
  extraArgs?: string[];
  /** keep the home after the test (for restart tests that start again on it) */
  keepHome?: boolean;
}

/** Starts `podyard up` in the foreground as a child; stopped (and its home removed) after the test. */
export async function startUp(t: TestContext, opts: StartUpOptions = {}): Promise<UpNode> {
  const home = opts.home ?? (await mkdtemp(join(tmpdir(), "podyard-e2e-")));
  const cache = await mkdtemp(join(tmpdir(), "podyard-kubecache-"));
  const [cmd, argv] = podyardArgs([
    "up", "--home", home, "--api-addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0", "--kubelet-port", "0",
    "--node-name", opts.nodeName ?? "node1", ...(opts.extraArgs ?? []),
  ]);
  const child = spawn(cmd, argv, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PODYARD_HOME: home } });
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> => {
    if (gone) return child.exitCode;
    child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  t.after(async () => {
    await stop();
    await rm(cache, { recursive: true, force: true });
    if (opts.keepHome !== true && opts.home === undefined) await rm(home, { recursive: true, force: true });
  });
  const info = await waitFor("podyard up to print its kubeconfig", async () => {
    if (gone) throw new Error(`podyard up exited (${String(child.exitCode)}):\n${out}`);
    if (!out.includes("export KUBECONFIG=")) return undefined;
    return JSON.parse(await readFile(join(home, "up.json"), "utf8")) as UpInfo;
  }, 90_000);
  const env = { ...process.env, KUBECONFIG: info.kubeconfig, KUBECACHEDIR: cache };
  return {
    home, info, child, env, stop,
    output: () => out,
    kubectl: (args, o = {}) => runTool(o.kubectl ?? KUBECTL, args, { env, timeoutMs: 120_000, ...o }),
  };
}

let image: Promise<BuiltBusyboxImage & { cleanup(): Promise<void> }> | undefined;

/** Pushes the busybox stand-in to the node's registry as library/alpine:latest (built once per file). */
export async function pushAlpine(t: TestContext, node: UpNode, repo = "library/alpine", tag = "latest"): Promise<void> {
  image ??= buildTestImage();
  const built = await image;
  t.diagnostic(`pushing the busybox stand-in as ${repo}:${tag} to ${node.info.registry}`);
  await pushLayout(`http://${node.info.registry}`, repo, tag, built);
}

/** Removes the image built by pushAlpine (call from the file's `after`). */
export async function cleanupImages(): Promise<void> {
  if (image) await (await image).cleanup();
  image = undefined;
}

/** kubectl's output, or a failed assertion with its stderr. */
export function ok(r: RunResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what}: exit ${String(r.code)}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

/** Waits until `kubectl get pod NAME` shows the phase/condition wanted. */
export async function waitPodReady(node: UpNode, name: string, timeoutS = 120): Promise<void> {
  ok(await node.kubectl(["wait", "--for=condition=Ready", `pod/${name}`, `--timeout=${timeoutS}s`], { timeoutMs: (timeoutS + 20) * 1000 }), `kubectl wait pod/${name}`);
}
