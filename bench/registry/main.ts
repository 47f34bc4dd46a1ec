// Registry benchmark: podyard's registry against Debian's docker-registry (CNCF distribution) on loopback.
// Prints figures only; timings never make it exit non-zero. Run: npx tsx bench/registry/main.ts [--help]
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { rmSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Cleanup } from "./cleanup.js";
import { generateImage, type Image } from "./fixture.js";
import { RegistryClient } from "./http.js";
import { optionsOrExitCode } from "../flags.js";
import { parseOptions, USAGE, type BenchOptions } from "./options.js";
import { startDistribution, startPodyard, type Peer, type PeerName } from "./peers.js";
import { formatDetails, formatTable, PEERS, Results, type Outcome, type WorkloadName } from "./report.js";
import { manifestGets, pull, push } from "./workloads.js";

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const WARMUP_SECONDS = 0.5;

interface Server {
  readonly peer: Peer;
  readonly client: RegistryClient;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The line of a multi-line error report most worth a progress line: the first naming an error. */
function headline(text: string): string {
  const lines = text.split("\n").map((l) => l.trim());
  return lines.find((l) => /error/i.test(l)) ?? lines[0] ?? "";
}

function machine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? "unknown CPU";
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  const load = (os.loadavg()[0] ?? 0).toFixed(2);
  return `${os.availableParallelism()} CPUs (${model}), ${memGiB} GiB RAM, ${os.type()} ${os.release()}, node ${process.version}, load ${load}`;
}

async function startServers(
  tmp: string,
  cleanup: Cleanup,
  opts: BenchOptions,
): Promise<{ servers: Map<PeerName, Server>; unavailable: Map<PeerName, string> }> {
  const servers = new Map<PeerName, Server>();
  const unavailable = new Map<PeerName, string>();
  const starters: Record<PeerName, (dir: string) => Promise<Peer>> = {
    distribution: (dir) => startDistribution(dir, { cleanup }),
    podyard: (dir) => startPodyard(dir, { repoRoot: REPO_ROOT, cleanup }),
  };
  for (const name of PEERS) {
    const dir = join(tmp, name);
    await mkdir(dir);
    try {
      const peer = await starters[name](dir);
      const client = new RegistryClient(peer.baseUrl, { maxSockets: Math.max(opts.concurrency, opts.layers + 1) });
      cleanup.add(`close ${name} client`, { run: async () => client.close(), runSync: () => client.close() });
      servers.set(name, { peer, client });
      process.stdout.write(`started ${name} (${peer.version}) at ${peer.baseUrl}\n`);
    } catch (err) {
      unavailable.set(name, message(err));
      process.stdout.write(`${name} failed to start: ${headline(message(err))} (details at the end)\n`);
    }
  }
  return { servers, unavailable };
}

/** Runs one workload on one server and records its figure or its failure. */
async function measure(
  results: Results,
  at: { peer: PeerName; workload: WorkloadName },
  fn: () => Promise<Outcome>,
): Promise<boolean> {
  let outcome: Outcome;
  try {
    outcome = await fn();
  } catch (err) {
    outcome = { error: message(err) };
  }
  results.add(at.peer, at.workload, outcome);
  const shown = "value" in outcome ? outcome.value.toFixed(1) : `failed: ${headline(outcome.error)}`;
  process.stdout.write(`  ${at.workload.padEnd(8)} ${at.peer.padEnd(12)} ${shown}\n`);
  return "value" in outcome;
}

async function runRounds(images: readonly Image[], servers: Map<PeerName, Server>, opts: BenchOptions): Promise<Results> {
  const results = new Results();
  for (let r = 0; r < opts.rounds; r++) {
    const image = images[r];
    if (image === undefined) break;
    // Alternate which server goes first, so neither always runs on the other's leftovers.
    const order = (r % 2 === 0 ? PEERS : [...PEERS].reverse()).flatMap((n) => {
      const s = servers.get(n);
      return s === undefined ? [] : [{ name: n, ...s }];
    });
    const target = { repo: `podyard-bench/round-${r + 1}`, tag: "v1" };
    process.stdout.write(`round ${r + 1}/${opts.rounds}\n`);
    const pushed = new Set<PeerName>();
    for (const s of order) {
      const ok = await measure(results, { peer: s.name, workload: "push" }, async () => ({
        value: (await push(s.client, image, target)).mbPerSecond,
      }));
      if (ok) pushed.add(s.name);
    }
    for (const s of order) {
      await measure(results, { peer: s.name, workload: "pull" }, async () => {
        if (!pushed.has(s.name)) throw new Error("skipped: the push of this round failed");
        return { value: (await pull(s.client, image, target)).mbPerSecond };
      });
    }
    for (const s of order) {
      await measure(results, { peer: s.name, workload: "manifest" }, async () => {
        if (!pushed.has(s.name)) throw new Error("skipped: the push of this round failed");
        const m = await manifestGets(s.client, image, {
          ...target,
          concurrency: opts.concurrency,
          seconds: opts.manifestSeconds,
          warmupSeconds: WARMUP_SECONDS,
        });
        const errs = [...m.errors].map(([what, n]) => `${n}× ${what}`);
        const note = `p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms${errs.length > 0 ? `, errors: ${errs.join("; ")}` : ""}`;
        return { value: m.perSecond, note };
      });
    }
  }
  return results;
}

async function main(argv: readonly string[]): Promise<number> {
  const opts = optionsOrExitCode(argv, parseOptions, USAGE);
  if (typeof opts === "number") return opts;

  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  try {
    const tmp = await mkdtemp(join(os.tmpdir(), "podyard-registry-bench-"));
    cleanup.add(`remove ${tmp}`, {
      run: () => rm(tmp, { recursive: true, force: true }),
      runSync: () => rmSync(tmp, { recursive: true, force: true }),
    });

    process.stdout.write(`machine: ${machine()}\n`);
    const layerBytes = Math.round(opts.layerMB * 1e6);
    process.stdout.write(`generating ${opts.rounds} image(s) of ${opts.layers} × ${opts.layerMB} MB random layers in ${tmp}\n`);
    const images: Image[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      const dir = join(tmp, "images", `round-${r + 1}`);
      await mkdir(dir, { recursive: true });
      images.push(await generateImage(dir, { layers: opts.layers, layerBytes }));
    }

    const { servers, unavailable } = await startServers(tmp, cleanup, opts);
    if (!servers.has("distribution")) {
      process.stderr.write(`distribution (the baseline) failed to start:\n${unavailable.get("distribution") ?? ""}\n`);
      return 1;
    }
    const results = await runRounds(images, servers, opts);

    const ctx = { ...opts, unavailable };
    const versions = [...servers.values()].map((s) => s.peer.version).join(" vs ");
    process.stdout.write(
      [
        "",
        `podyard registry bench: ${versions}, loopback, medians of ${opts.rounds} round(s), higher is better`,
        `machine: ${machine()}`,
        `workloads: push/pull of ${opts.layers} layers concurrently (POST, streamed PATCH, PUT ?digest=; GET sha256-verified);`,
        `           manifest GETs by tag at concurrency ${opts.concurrency} for ${opts.manifestSeconds} s`,
        "",
        formatTable(results, ctx),
        "",
        formatDetails(results, ctx),
        "",
      ].join("\n"),
    );
    return 0;
  } finally {
    await cleanup.run();
  }
}

process.exitCode = await main(process.argv.slice(2));
