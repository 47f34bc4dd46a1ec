// Command-line flags of the registry benchmark.
import { parseFlags, UsageError } from "../flags.js";

export interface BenchOptions {
  /** Rounds per workload; each round runs distribution and podyard once, in alternating order. */
  readonly rounds: number;
  /** Layers per pushed image. */
  readonly layers: number;
  /** Size of each layer in MB (10^6 bytes). */
  readonly layerMB: number;
  /** Concurrent requests of the manifest GET workload. */
  readonly concurrency: number;
  /** Timed length of the manifest GET workload, in seconds. */
  readonly manifestSeconds: number;
}

export const USAGE = `Usage: npx tsx bench/registry/main.ts [flags]

Compares podyard's registry with Debian's docker-registry (CNCF distribution) on loopback.

  --rounds N            rounds per workload, medians are reported (default 3)
  --layers N            layers per pushed image (default 5)
  --layer-mb N          MB (10^6 bytes) per layer (default 40)
  --concurrency N       concurrent manifest GETs (default 32)
  --manifest-seconds N  timed length of the manifest GET workload (default 5)
  --help                print this text
`;

/** Parses the flags; returns undefined when --help was asked for. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const values = parseFlags(argv, {
    rounds: { type: "string" },
    layers: { type: "string" },
    "layer-mb": { type: "string" },
    concurrency: { type: "string" },
    "manifest-seconds": { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help === true) return undefined;
  return {
    rounds: positive("rounds", values.rounds, 3),
    layers: positive("layers", values.layers, 5),
    layerMB: positive("layer-mb", values["layer-mb"], 40),
    concurrency: positive("concurrency", values.concurrency, 32),
    manifestSeconds: positive("manifest-seconds", values["manifest-seconds"], 5),
  };
}

const INTEGER_FLAGS = new Set(["rounds", "layers", "concurrency"]);

function positive(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`Invalid --${flag}: "${raw}", want a positive number`);
  if (INTEGER_FLAGS.has(flag) && !Number.isInteger(n)) {
    throw new UsageError(`Invalid --${flag}: "${raw}", want a positive integer`);
  }
  return n;
}
