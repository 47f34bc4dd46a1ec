// Pull benchmark: a cold pull of a 6-layer, ~137 MB image from a podyard registry on loopback into empty
// stores, podyard against podman (pull + unpack) and skopeo (download only).
// Prints figures only; timings never make it exit non-zero. Run: npx tsx bench/pull/main.ts [--help]
import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Cleanup } from "../registry/cleanup.js";
import { buildImage, serveImage, type BenchImage } from "./fixture.js";
import { GNU_TIME, killLiveChildren, preferRssSource, rssSource, stopChildren, stopping } from "./measure.js";
import { unmountUnder, unmountUnderSync } from "./mounts.js";
import { optionsOrExitCode } from "../flags.js";
import { parseOptions, USAGE } from "./options.js";
import { formatRounds, formatSummary, formatWorkloads, Results } from "./report.js";
import { compile } from "./build.js";
import { RUNNERS, selectWorkloads, type Outcome, type RunContext, type WorkloadName } from "./workloads.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const run = promisify(execFile);

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function version(cmd: string): Promise<string> {
  try {
    return (await run(cmd, ["--version"])).stdout.trim().split("\n")[0] ?? cmd;
  } catch (err) {
    return `${cmd} unavailable (${(err as NodeJS.ErrnoException).code ?? message(err)})`;
  }
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? "unknown CPU";
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  const load = (os.loadavg()[0] ?? 0).toFixed(2);
  return `${os.availableParallelism()} CPUs (${model}), ${memGiB} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}, load ${load}`;
}

function shown(o: Outcome): string {
  if ("error" in o) return `failed: ${o.error.split("\n")[0] ?? ""}`;
  const f = o.figures;
  const rss = f.peakRss === undefined ? "" : `, peak RSS ${(f.peakRss / 1e6).toFixed(1)} MB`;
  const inProc = f.inProcessMs === undefined ? "" : ` (${f.inProcessMs.toFixed(0)} ms in-process)`;
  return `${f.wallMs.toFixed(0)} ms${inProc}${rss}`;
}

async function runRound(ctx: RunContext, workloads: readonly WorkloadName[], round: number, results: Results | undefined): Promise<void> {
  // Alternate the order, so no workload always runs right after the same other one.
  const order = round % 2 === 0 ? workloads : [...workloads].reverse();
  for (const w of order) {
    if (stopping()) return;
    let outcome: Outcome;
    try {
      outcome = await RUNNERS[w](ctx);
    } catch (err) {
      outcome = { error: message(err) };
    }
    results?.add(w, outcome);
    process.stdout.write(`  ${w.padEnd(19)} ${shown(outcome)}\n`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const opts = optionsOrExitCode(argv, parseOptions, USAGE);
  if (typeof opts === "number") return opts;

  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  try {
    const tmp = await mkdtemp(join(os.tmpdir(), "pyd-pull-"));
    cleanup.add(`remove ${tmp}`, {
      run: async () => {
        await stopChildren();
        await unmountUnder(tmp);
        await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
      },
      runSync: () => {
        killLiveChildren();
        unmountUnderSync(tmp);
        rmSync(tmp, { recursive: true, force: true });
      },
    });

    const tools = { skopeo: await version("skopeo"), podman: await version("podman") };
    process.stdout.write(`machine: ${machine()}\n${tools.skopeo}; ${tools.podman}\n`);
    preferRssSource(opts.rss);
    if (opts.rss === "time" && rssSource() !== "GNU time") {
      process.stdout.write(`${GNU_TIME} not found (Debian package "time"): peak RSS from polling /proc/<pid>/status VmHWM\n`);
    }

    process.stdout.write(`building the image in ${tmp}\n`);
    let image: BenchImage;
    try {
      image = await buildImage(join(tmp, "image"), { layers: opts.layers, data: opts.data });
    } catch (err) {
      process.stderr.write(`cannot build the image: ${message(err)}\n`);
      return 1;
    }
    process.stdout.write(`image: ${image.description} (built in ${(image.buildMs / 1000).toFixed(1)} s)\n`);

    let compiled: RunContext["compiled"];
    let compiledNote = "";
    if (opts.podyard !== "tsx") {
      try {
        const build = await compile(REPO_ROOT, join(tmp, "build"));
        compiled = { dist: build.dist };
        compiledNote = `bundled by scripts/build.ts (esbuild) in ${(build.ms / 1000).toFixed(1)} s`;
        process.stdout.write(`podyard ${compiledNote} into ${build.dist}\n`);
      } catch (err) {
        compiled = { error: message(err) };
        compiledNote = `compiling failed: ${message(err).split("\n")[0] ?? ""}`;
        process.stdout.write(`podyard ${compiledNote}\n`);
      }
    }

    const registryDir = join(tmp, "registry");
    await mkdir(registryDir);
    let served;
    try {
      served = await serveImage(registryDir, image, { timeoutMs: opts.timeoutSeconds * 1000 });
    } catch (err) {
      process.stderr.write(`cannot serve the image: ${message(err)}\n`);
      return 1;
    }
    const server = served.server;
    cleanup.add("stop the registry", { run: () => server.close(), runSync: () => server.server.close() });
    process.stdout.write(`registry: podyard's, in-process at ${served.host}; pushed ${served.ref} with skopeo in ${served.pushMs.toFixed(0)} ms\n`);

    const runs = join(tmp, "r"); // short: podman's runroot must stay within 50 characters
    await mkdir(runs);
    const outside = new Set<string>();
    cleanup.add("remove podman runroots", {
      run: async () => {
        await stopChildren();
        for (const d of outside) {
          await unmountUnder(d);
          await rm(d, { recursive: true, force: true, maxRetries: 3 });
        }
      },
      runSync: () => {
        killLiveChildren();
        for (const d of outside) {
          unmountUnderSync(d);
          rmSync(d, { recursive: true, force: true });
        }
      },
    });
    const ctx: RunContext = {
      repoRoot: REPO_ROOT,
      compiled,
      ref: served.ref,
      parent: runs,
      concurrency: opts.concurrency,
      timeoutMs: opts.timeoutSeconds * 1000,
      podman: { driver: opts.podmanDriver },
      notes: [],
      outside,
    };
    const workloads = selectWorkloads(opts.podyard);
    for (let r = 0; r < opts.warmup; r++) {
      process.stdout.write(`warm-up ${r + 1}/${opts.warmup} (not counted)\n`);
      await runRound(ctx, workloads, r, undefined);
    }
    const results = new Results();
    for (let r = 0; r < opts.rounds; r++) {
      process.stdout.write(`round ${r + 1}/${opts.rounds}\n`);
      await runRound(ctx, workloads, opts.warmup + r, results);
    }

    if (stopping()) return 130; // a signal: the cleanup is under way and exits with the signal's code

    const podmanDriver = ctx.podman.driver === "auto" ? "driver unresolved" : ctx.podman.driver;
    const report = { compressedBytes: image.compressedBytes, podmanDriver };
    const notes = [
      ...(ctx.podman.note === undefined ? [] : [ctx.podman.note]),
      ...ctx.notes,
      ...(served.log.length === 0 ? [] : [`the registry logged ${served.log.length} line(s), first: ${served.log[0] ?? ""}`]),
    ];
    process.stdout.write(
      [
        "",
        `podyard pull bench: cold pulls from podyard's registry on loopback, medians of ${opts.rounds} round(s) after ${opts.warmup} warm-up, lower is better`,
        `machine: ${machine()}`,
        `tools: ${tools.skopeo}; ${tools.podman} (storage driver ${podmanDriver}); peak RSS from ${rssSource()}`,
        `image: ${image.description}`,
        `podyard: bin/podyard.js runs ${existsSync(join(REPO_ROOT, "dist", "main.js")) ? "the repository's dist/" : "src/ through tsx (no dist/)"}${compiledNote === "" ? "" : `; the -js workloads run it ${compiledNote}`}; download-only fetches ${opts.concurrency} blobs at once`,
        "",
        formatSummary(results, report),
        "",
        formatWorkloads(results, report, workloads),
        "",
        formatRounds(results, workloads),
        ...(notes.length === 0 ? [] : ["", "notes:", ...notes.map((n) => `  ${n}`)]),
        "",
      ].join("\n"),
    );
    return 0;
  } finally {
    await cleanup.run();
  }
}

process.exitCode = await main(process.argv.slice(2));
