// Command-line flags of the pull benchmark.
import { parseFlags, UsageError } from "../flags.js";

/** What fills each data layer: runtime-notes §10.4's mix of random and `seq` text, or random bytes only. */
export type DataKind = "mixed" | "random";
/** How podyard's code runs: from src/ through tsx, built as `npm run build` does, or both (one workload each). */
export type PodyardMode = "tsx" | "compiled" | "both";
/** podman's storage driver; `auto` tries overlay in the warm-up and falls back to vfs. */
export type PodmanDriver = "auto" | "overlay" | "vfs";

export interface BenchOptions {
  /** Timed rounds; each runs the four workloads once, in alternating order. */
  readonly rounds: number;
  /** Untimed rounds before them (page cache, tsx's transform cache, podman's driver check). */
  readonly warmup: number;
  /** Data layers on top of the busybox layer. */
  readonly layers: number;
  readonly data: DataKind;
  readonly podmanDriver: PodmanDriver;
  readonly podyard: PodyardMode;
  /** Blobs downloaded at once by the download-only workload (podyard's pull uses its own default, 3). */
  readonly concurrency: number;
  /** Where peak RSS comes from: GNU time (falls back to proc when missing) or VmHWM polling. */
  readonly rss: "time" | "proc";
  /** Kill a run after this many seconds. */
  readonly timeoutSeconds: number;
}

export const USAGE = `Usage: npx tsx bench/pull/main.ts [flags]

Cold pull of a 6-layer image (about 137 MB compressed) from a podyard registry on loopback into
empty stores: podyard pull (download + unpack) against podman pull, and podyard's download-only
path (the library's BlobFetcher into a content store) against skopeo copy to an OCI layout.

  --rounds N             timed rounds, medians are reported (default 3)
  --warmup N             untimed rounds first (default 1)
  --layers N             data layers on top of busybox (default 5)
  --data mixed|random    each data layer: 20 MiB random + 20 MiB seq text, gzip -1 (about 27 MB,
                         as runtime-notes §10.4; default), or 26 MiB (27.3 MB) of random bytes
  --podman-driver auto|overlay|vfs
                         podman's storage driver (default auto: overlay, vfs if overlay fails)
  --podyard tsx|compiled|both
                         run podyard from src/ through tsx (bin/podyard.js without a build),
                         bundled as 'npm run build' does into a temp dir, or both
                         (default both)
  --concurrency N        blobs at once for the download-only workload (default 3)
  --rss time|proc        peak RSS from /usr/bin/time -f %M (default; VmHWM polling when it is
                         missing) or from polling /proc/<pid>/status VmHWM
  --timeout N            seconds before a run is killed (default 300)
  --help                 print this text
`;

/** Parses the flags; returns undefined when --help was asked for. */
export function parseOptions(argv: readonly string[]): BenchOptions | undefined {
  const values = parseFlags(argv, {
    rounds: { type: "string" },
    warmup: { type: "string" },
    layers: { type: "string" },
    data: { type: "string" },
    "podman-driver": { type: "string" },
    podyard: { type: "string" },
    concurrency: { type: "string" },
    timeout: { type: "string" },
    rss: { type: "string" },
    help: { type: "boolean" },
  });
  if (values.help === true) return undefined;
  return {
    rounds: integer("rounds", values.rounds, 3, 1),
    warmup: integer("warmup", values.warmup, 1, 0),
    layers: integer("layers", values.layers, 5, 0),
    data: oneOf("data", values.data, ["mixed", "random"] as const, "mixed"),
    podmanDriver: oneOf("podman-driver", values["podman-driver"], ["auto", "overlay", "vfs"] as const, "auto"),
    podyard: oneOf("podyard", values.podyard, ["tsx", "compiled", "both"] as const, "both"),
    concurrency: integer("concurrency", values.concurrency, 3, 1),
    rss: oneOf("rss", values.rss, ["time", "proc"] as const, "time"),
    timeoutSeconds: integer("timeout", values.timeout, 300, 1),
  };
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`Invalid --${flag}: "${raw}", want an integer ≥ ${min}`);
  return n;
}

function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  const found = allowed.find((a) => a === raw);
  if (found === undefined) throw new UsageError(`Invalid --${flag}: "${raw}", want one of ${allowed.join(", ")}`);
  return found;
}
