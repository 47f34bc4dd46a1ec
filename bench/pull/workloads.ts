// The workloads: podyard pull (download + unpack) against podman pull, podyard's download-only path against
// skopeo copy; each podyard workload both from src/ through tsx (as bin/podyard.js runs without a build) and
// built as `npm run build` does (as an installed podyard runs). Each run gets fresh, empty state under its own temp dir (a PODYARD_HOME, a podman
// graphroot, a content store dir, an OCI layout dir, and fresh HOME/TMPDIR for the containers tools), is
// timed from spawn to exit with its peak RSS, and is then cleaned up: podman's images removed, anything
// mounted under the run's dir unmounted, the dir deleted.
import { execFile } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { podmanEnv, toolEnv, type PodmanEnv } from "../../test/helpers/containers-env.js";
import { failure, measure, ok, type RunResult } from "./measure.js";
import { unmountUnder } from "./mounts.js";
import type { PodyardMode } from "./options.js";

const run = promisify(execFile);

export type WorkloadName = "podyard-pull" | "podyard-pull-js" | "podman-pull" | "podyard-download" | "podyard-download-js" | "skopeo-copy";

/** Every workload, in the order of a round (odd rounds run it reversed). */
export const WORKLOADS: readonly WorkloadName[] = [
  "podyard-pull", "podyard-pull-js", "podman-pull", "podyard-download", "podyard-download-js", "skopeo-copy",
];

export function selectWorkloads(mode: PodyardMode): WorkloadName[] {
  const compiled = new Set<WorkloadName>(["podyard-pull-js", "podyard-download-js"]);
  const tsx = new Set<WorkloadName>(["podyard-pull", "podyard-download"]);
  return WORKLOADS.filter((w) => !(mode === "tsx" && compiled.has(w)) && !(mode === "compiled" && tsx.has(w)));
}

/** One run's figures. */
export interface Figures {
  readonly wallMs: number;
  readonly peakRss: number | undefined;
  /** Bytes the run left on disk (du -sb of its store), undefined when du failed. */
  readonly diskBytes: number | undefined;
  /** The download-only child's own timing, without Node's start-up. */
  readonly inProcessMs?: number;
  /** Peaks of process.memoryUsage() (bench/pull/memory-probe.ts), where the run could preload the probe. */
  readonly memory?: MemoryPeaks;
}

export interface MemoryPeaks {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

const MEMORY_ENV = "PODYARD_BENCH_MEMORY_FILE";

/** The probe's `--import` flags and environment for a run in `dir`. */
function probe(ctx: RunContext, dir: string, compiled: boolean): { flags: string[]; env: NodeJS.ProcessEnv; file: string } {
  const file = join(dir, "memory.json");
  const script = compiled ? join(compiledDist(ctx), "memory-probe.js") : join(ctx.repoRoot, "bench", "pull", "memory-probe.ts");
  return { flags: ["--import", pathToFileURL(script).href], env: { ...process.env, [MEMORY_ENV]: file }, file };
}

async function readPeaks(file: string): Promise<MemoryPeaks | undefined> {
  try {
    const p = JSON.parse(await readFile(file, "utf8")) as Partial<Record<keyof MemoryPeaks, unknown>>;
    const n = (v: unknown): number => (typeof v === "number" ? v : Number.NaN);
    const peaks = { rss: n(p.rss), heapUsed: n(p.heapUsed), external: n(p.external), arrayBuffers: n(p.arrayBuffers) };
    return Object.values(peaks).every(Number.isFinite) ? peaks : undefined;
  } catch {
    return undefined;
  }
}

export type Outcome = { readonly figures: Figures } | { readonly error: string };

export interface RunContext {
  /** The repository root, the cwd of the podyard runs. */
  readonly repoRoot: string;
  /** The build (bench/pull/build.ts) for the `-js` workloads, or why there is none. */
  readonly compiled: { readonly dist: string } | { readonly error: string } | undefined;
  /** host:port/bench/big:v1 */
  readonly ref: string;
  /** Where this run's dir is created. */
  readonly parent: string;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** podman's storage driver; `auto` resolves on the first run (overlay, else vfs). */
  podman: { driver: "auto" | "overlay" | "vfs"; note?: string };
  /** What the runs cleaned up that is worth telling (mounts left behind). */
  readonly notes: string[];
  /** Run dirs outside `parent` (podman's short runroots) not yet removed, for the cleanup on a signal. */
  readonly outside: Set<string>;
}

async function du(path: string): Promise<number | undefined> {
  try {
    const { stdout } = await run("du", ["-sb", path]);
    const n = Number(stdout.split(/\s/)[0]);
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Flushes earlier runs' dirty pages, so they are not written back during the next timed run. */
async function sync(): Promise<void> {
  try {
    await run("sync");
  } catch {
    // only a courtesy to the next run
  }
}

let runCounter = 0;

/** Creates the run's dir, runs `body`, then unmounts what it left under the dir and removes it. */
async function inRunDir<T>(ctx: RunContext, name: WorkloadName, body: (dir: string) => Promise<T>, teardown?: (dir: string) => Promise<void>): Promise<T> {
  const dir = join(ctx.parent, `${String(++runCounter).padStart(2, "0")}-${name}`);
  await mkdir(dir);
  try {
    return await body(dir);
  } finally {
    try {
      if (teardown !== undefined) await teardown(dir);
    } finally {
      const unmounted = await unmountUnder(dir);
      if (unmounted.length > 0) ctx.notes.push(`${name}: unmounted ${unmounted.join(", ")} left behind`);
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    }
  }
}

function outcome(r: RunResult, diskBytes: number | undefined, extra: { inProcessMs?: number; memory?: MemoryPeaks } = {}): Outcome {
  if (!ok(r)) return { error: failure(r) };
  return {
    figures: {
      wallMs: r.wallMs,
      peakRss: r.peakRss,
      diskBytes,
      ...(extra.inProcessMs === undefined ? {} : { inProcessMs: extra.inProcessMs }),
      ...(extra.memory === undefined ? {} : { memory: extra.memory }),
    },
  };
}

/** The compiled tree's root, or a throw that becomes the run's failure. */
function compiledDist(ctx: RunContext): string {
  if (ctx.compiled === undefined) throw new Error("podyard was not compiled for this run");
  if ("error" in ctx.compiled) throw new Error(`podyard could not be compiled: ${ctx.compiled.error}`);
  return ctx.compiled.dist;
}

/** 1. `podyard pull REF` into a fresh PODYARD_HOME: download and unpack (bin/podyard.js, or the compiled CLI). */
export function podyardPull(ctx: RunContext, compiled: boolean): Promise<Outcome> {
  return inRunDir(ctx, compiled ? "podyard-pull-js" : "podyard-pull", async (dir) => {
    // bin/podyard.js registers tsx itself, so only the compiled CLI can take the (then plain JS) probe
    const p = compiled ? probe(ctx, dir, true) : undefined;
    const cli = compiled ? [...(p?.flags ?? []), join(compiledDist(ctx), "main.js")] : [join(ctx.repoRoot, "bin", "podyard.js")];
    const home = join(dir, "podyard-home");
    await mkdir(home);
    await sync();
    const r = await measure(process.execPath, [...cli, "pull", ctx.ref], {
      env: { ...(p?.env ?? process.env), PODYARD_HOME: home },
      cwd: ctx.repoRoot,
      scratch: dir,
      timeoutMs: ctx.timeoutMs,
    });
    if (!ok(r)) return outcome(r, undefined);
    const memory = p === undefined ? undefined : await readPeaks(p.file);
    return outcome(r, await du(home), memory === undefined ? {} : { memory });
  });
}

async function podmanOnce(ctx: RunContext, driver: "overlay" | "vfs"): Promise<Outcome> {
  let env: PodmanEnv | undefined;
  return inRunDir(
    ctx,
    "podman-pull",
    async (dir) => {
      env = await podmanEnv(dir, driver);
      for (const d of env.outside) ctx.outside.add(d);
      await sync();
      const r = await measure("podman", [...env.globalFlags, "pull", "--tls-verify=false", ctx.ref], {
        env: env.env,
        cwd: dir,
        scratch: dir,
        timeoutMs: ctx.timeoutMs,
      });
      return outcome(r, ok(r) ? await du(env.graphroot) : undefined);
    },
    async () => {
      if (env === undefined) return;
      // remove the image the way podman would, so its driver undoes whatever it set up
      const rmi = await measure("podman", [...env.globalFlags, "rmi", "-a", "-f"], { env: env.env, cwd: env.base, scratch: env.base, timeoutMs: ctx.timeoutMs });
      if (!ok(rmi)) ctx.notes.push(`podman rmi -a -f failed: ${failure(rmi).split("\n").slice(0, 2).join(" ")}`);
      for (const d of env.outside) {
        const unmounted = await unmountUnder(d);
        if (unmounted.length > 0) ctx.notes.push(`podman-pull: unmounted ${unmounted.join(", ")} left behind`);
        await rm(d, { recursive: true, force: true, maxRetries: 3 });
        ctx.outside.delete(d);
      }
    },
  );
}

/** 2. `podman pull --tls-verify=false REF` into a fresh graphroot (overlay, or vfs). */
export async function podmanPull(ctx: RunContext): Promise<Outcome> {
  if (ctx.podman.driver !== "auto") return podmanOnce(ctx, ctx.podman.driver);
  const first = await podmanOnce(ctx, "overlay");
  if ("figures" in first) {
    ctx.podman = { driver: "overlay" };
    return first;
  }
  const fallback = await podmanOnce(ctx, "vfs");
  if ("figures" in fallback) {
    ctx.podman = { driver: "vfs", note: `the overlay driver failed, so podman used vfs: ${first.error.split("\n").slice(0, 4).join(" | ")}` };
  }
  return fallback;
}

/** 3. podyard's download-only pull (bench/pull/download-only.ts, through tsx or compiled) into a fresh content store. */
export function podyardDownload(ctx: RunContext, compiled: boolean): Promise<Outcome> {
  return inRunDir(ctx, compiled ? "podyard-download-js" : "podyard-download", async (dir) => {
    const p = probe(ctx, dir, compiled);
    const script = compiled
      ? [...p.flags, join(compiledDist(ctx), "download-only.js")]
      : ["--import", "tsx", ...p.flags, join(ctx.repoRoot, "bench", "pull", "download-only.ts")];
    const content = join(dir, "content");
    await sync();
    const r = await measure(process.execPath, [...script, ctx.ref, content, String(ctx.concurrency)], {
      env: p.env,
      cwd: ctx.repoRoot,
      scratch: dir,
      timeoutMs: ctx.timeoutMs,
    });
    if (!ok(r)) return outcome(r, undefined);
    let inProcessMs: number | undefined;
    try {
      const line = r.stdout.trim().split("\n").pop() ?? "";
      const parsed = JSON.parse(line) as { ms?: unknown };
      if (typeof parsed.ms === "number") inProcessMs = parsed.ms;
    } catch {
      // the wall time still stands
    }
    const memory = await readPeaks(p.file);
    return outcome(r, await du(content), { ...(inProcessMs === undefined ? {} : { inProcessMs }), ...(memory === undefined ? {} : { memory }) });
  });
}

/** 4. `skopeo copy docker://REF oci:DIR:v1` into a fresh directory. */
export function skopeoCopy(ctx: RunContext): Promise<Outcome> {
  return inRunDir(ctx, "skopeo-copy", async (dir) => {
    const envDir = join(dir, "env");
    await mkdir(envDir);
    const tools = await toolEnv(envDir);
    const layout = join(dir, "layout");
    await sync();
    const r = await measure("skopeo", ["--insecure-policy", "copy", "--src-tls-verify=false", `docker://${ctx.ref}`, `oci:${layout}:v1`], {
      env: tools.env,
      cwd: dir,
      scratch: dir,
      timeoutMs: ctx.timeoutMs,
    });
    return outcome(r, ok(r) ? await du(layout) : undefined);
  });
}

export const RUNNERS: Record<WorkloadName, (ctx: RunContext) => Promise<Outcome>> = {
  "podyard-pull": (ctx) => podyardPull(ctx, false),
  "podyard-pull-js": (ctx) => podyardPull(ctx, true),
  "podman-pull": podmanPull,
  "podyard-download": (ctx) => podyardDownload(ctx, false),
  "podyard-download-js": (ctx) => podyardDownload(ctx, true),
  "skopeo-copy": skopeoCopy,
};
