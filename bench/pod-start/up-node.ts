// What bench/pod-start and bench/api share: a `podyard up` child in a scratch home on free ports, a small
// HTTPS client with its token and CA, a watch, the busybox stand-in pushed as library/alpine:latest, and
// the agent's CPU and RSS read from /proc.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request, type RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildBusyboxImage, type BuiltBusyboxImage } from "../../src/cli/tutorial/busybox-rootfs.js";
import { withAgentFlags } from "../../src/cli/up/agent-heap.js";
import type { UpInfo } from "../../src/cli/up/state.js";
import { pushLayout } from "../../test/helpers/images.js";
import { UsageError } from "../flags.js";
import { compile } from "../pull/build.js";

// API calls share kept-alive connections, as a controller built on client-go does: each round times
// the server and the node, not a TLS handshake per request
const keepAliveAgent = new Agent({ keepAlive: true });
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export interface BenchNode {
  home: string;
  info: UpInfo;
  child: ChildProcess;
  /** ms from spawn to the node Ready line */
  startMs: number;
  api<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; ms: number }>;
  /** opens a watch; `onEvent` gets each event; resolves once the response headers arrived */
  watch(path: string, onEvent: (e: { type: string; object: { metadata: { name: string }; status?: unknown } }) => void): Promise<() => void>;
  stop(): Promise<void>;
}

/** How the agent runs: bundled as `npm run build` makes it (what bin/podyard.js runs when dist/ is fresh), or src/ through tsx. */
export type PodyardMode = "compiled" | "tsx";

/** The --podyard flag's value (default compiled). */
export function podyardMode(v: string | undefined): PodyardMode {
  if (v === undefined || v === "compiled" || v === "tsx") return v ?? "compiled";
  throw new UsageError(`--podyard: want compiled or tsx, got ${JSON.stringify(v)}`);
}

let compiled: Promise<string> | undefined;
let buildDir: string | undefined;

/** The CLI's entry for `mode`: a build of the current sources into a temp dir (made once), or main.ts. */
async function cliEntry(mode: PodyardMode): Promise<string[]> {
  if (mode === "tsx") return ["--import", "tsx", join(REPO_ROOT, "src", "cli", "main.ts")];
  compiled ??= (async () => {
    buildDir = await mkdtemp(join(tmpdir(), "podyard-bench-build-"));
    return (await compile(REPO_ROOT, buildDir)).dist;
  })();
  return [join(await compiled, "main.js")];
}

/** Removes the temp build, if one was made. */
export async function removeBuild(): Promise<void> {
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
}

export async function startNode(extraArgs: string[] = [], mode: PodyardMode = "compiled"): Promise<BenchNode> {
  const home = await mkdtemp(join(tmpdir(), "podyard-bench-"));
  const entry = await cliEntry(mode);
  // PODYARD_BENCH_NODE_ARGS: extra Node flags for the agent (e.g. --cpu-prof), which NODE_OPTIONS refuses
  const nodeArgs = (process.env.PODYARD_BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const t0 = performance.now();
  // the heap flags the agent gets as the `podyard` command (bin/podyard.js's #! line) and from `up -d`
  const child = spawn(process.execPath, [
    ...withAgentFlags(nodeArgs), ...entry, "up", "--home", home,
    "--api-addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0", "--kubelet-port", "0", "--node-name", "bench", ...extraArgs,
  ], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const startMs = await new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("export KUBECONFIG=")) resolve(performance.now() - t0);
    });
    child.once("exit", (code) => reject(new Error(`podyard up exited ${String(code)}:\n${out}`)));
  });
  const info = JSON.parse(await readFile(join(home, "up.json"), "utf8")) as UpInfo;
  const token = readFileSync(join(home, "token"), "utf8").trim();
  const ca = readFileSync(join(home, "pki", "ca.crt"));
  const base = new URL(info.apiServer);
  const opts = (method: string, path: string, headers: Record<string, string>): RequestOptions => ({
    method, host: base.hostname, port: base.port, path, ca, agent: keepAliveAgent,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/json", ...headers },
  });
  const api: BenchNode["api"] = (method, path, body, headers = {}) => new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const s = performance.now();
    const req = request(opts(method, path, text === undefined ? headers : { "Content-Type": "application/json", ...headers }), (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const raw = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = raw;
        try {
          parsed = JSON.parse(raw);
        } catch {
          // keep the text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed as never, ms: performance.now() - s });
      });
    });
    req.on("error", reject);
    req.end(text);
  });
  const watch: BenchNode["watch"] = (path, onEvent) => new Promise((resolve, reject) => {
    const req = request(opts("GET", path, {}), (res) => {
      let buf = "";
      res.on("data", (c: Buffer) => {
        buf += c.toString("utf8");
        let nl: number;
        while ((nl = buf.indexOf("\n")) !== -1) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.trim() !== "") onEvent(JSON.parse(line) as never);
        }
      });
      res.on("error", () => {});
      resolve(() => req.destroy());
    });
    req.on("error", (err) => reject(err));
    req.end();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const gone = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      await gone;
      clearTimeout(timer);
    }
    await rm(home, { recursive: true, force: true });
  };
  return { home, info, child, startMs, api, watch, stop };
}

let built: Promise<BuiltBusyboxImage> | undefined;
let imageDir: string | undefined;

export async function pushAlpine(node: BenchNode): Promise<BuiltBusyboxImage> {
  built ??= (async () => {
    // lower case: podman names an image pulled from oci:DIR after the directory
    imageDir = join(tmpdir(), `podyard-bench-image-${randomBytes(6).toString("hex")}`);
    await mkdir(imageDir);
    return buildBusyboxImage({ dir: imageDir, tag: "latest" });
  })();
  const image = await built;
  await pushLayout(`http://${node.info.registry}`, "library/alpine", "latest", image);
  return image;
}

export async function removeImage(): Promise<void> {
  if (imageDir) await rm(imageDir, { recursive: true, force: true });
}

/** The process's RSS in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) * 1024;
}

/** CPU seconds used by the process so far (utime + stime, and its waited-for children). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((s, i) => s + Number(fields[i] ?? 0), 0);
  return ticks / 100;
}

/** Share of one core the process used over `ms`. */
export async function idleCpu(pid: number, ms: number): Promise<number> {
  const a = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, ms));
  return (cpuSeconds(pid) - a) / (ms / 1000);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

interface PodStatusLike {
  status?: { phase?: string; containerStatuses?: { state?: { running?: unknown } }[] };
  spec?: { containers?: unknown[] };
}

/** Every container of the pod running. */
export function allRunning(pod: PodStatusLike): boolean {
  const want = pod.spec?.containers?.length ?? 1;
  const cs = pod.status?.containerStatuses ?? [];
  return cs.length === want && cs.every((c) => c.state?.running !== undefined);
}

export function singlePod(name: string): object {
  return {
    apiVersion: "v1", kind: "Pod", metadata: { name },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: "app", image: "alpine", imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }] },
  };
}
