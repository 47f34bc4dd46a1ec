// Collects per-round figures and prints the comparison. Figures are informational: nothing here fails.
import { median } from "../registry/report.js";
import type { Figures, Outcome, WorkloadName } from "./workloads.js";

const MB = 1_000_000;

/** podyard's time over the peer's: lower is better. */
const COMPARISONS = [
  { label: "pull + unpack vs podman pull (tsx)", podyard: "podyard-pull", peer: "podman-pull", target: 0.5 },
  { label: "pull + unpack vs podman pull (compiled)", podyard: "podyard-pull-js", peer: "podman-pull", target: 0.5 },
  { label: "download only vs skopeo copy (tsx)", podyard: "podyard-download", peer: "skopeo-copy", target: 1.0 },
  { label: "download only vs skopeo copy (compiled)", podyard: "podyard-download-js", peer: "skopeo-copy", target: 1.0 },
] as const satisfies readonly { label: string; podyard: WorkloadName; peer: WorkloadName; target: number }[];
const RSS_ROWS = [
  { label: "podyard pull peak RSS, largest round (tsx)", workload: "podyard-pull" },
  { label: "podyard pull peak RSS, largest round (compiled)", workload: "podyard-pull-js" },
] as const satisfies readonly { label: string; workload: WorkloadName }[];
/** podyard pull's peak RSS must stay below this (the largest of the rounds is judged). */
const RSS_TARGET_MB = 150;

const LABELS: Record<WorkloadName, string> = {
  "podyard-pull": "podyard pull, tsx (download + unpack)",
  "podyard-pull-js": "podyard pull, compiled",
  "podman-pull": "podman pull",
  "podyard-download": "podyard download only, tsx",
  "podyard-download-js": "podyard download only, compiled",
  "skopeo-copy": "skopeo copy → oci:",
};

export class Results {
  readonly #outcomes = new Map<WorkloadName, Outcome[]>();

  add(workload: WorkloadName, outcome: Outcome): void {
    const list = this.#outcomes.get(workload) ?? [];
    list.push(outcome);
    this.#outcomes.set(workload, list);
  }

  outcomes(workload: WorkloadName): readonly Outcome[] {
    return this.#outcomes.get(workload) ?? [];
  }

  figures(workload: WorkloadName): Figures[] {
    return this.outcomes(workload).flatMap((o) => ("figures" in o ? [o.figures] : []));
  }

  /** Median of one figure over the successful rounds; undefined when none has it. */
  median(workload: WorkloadName, pick: (f: Figures) => number | undefined): number | undefined {
    return median(this.figures(workload).flatMap((f) => {
      const v = pick(f);
      return v === undefined ? [] : [v];
    }));
  }

  max(workload: WorkloadName, pick: (f: Figures) => number | undefined): number | undefined {
    const values = this.figures(workload).flatMap((f) => {
      const v = pick(f);
      return v === undefined ? [] : [v];
    });
    return values.length === 0 ? undefined : Math.max(...values);
  }
}

export interface ReportContext {
  /** Bytes a pull moves: layers, config and manifest. */
  readonly compressedBytes: number;
  readonly podmanDriver: string;
}

function ms(v: number | undefined): string {
  return v === undefined ? "failed" : `${v.toFixed(0)} ms`;
}

function mb(v: number | undefined): string {
  return v === undefined ? "-" : `${(v / MB).toFixed(1)} MB`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: number): string {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i < leftColumns || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** The summary: podyard against its peers on time, and podyard pull's peak RSS, each with its target. */
export function formatSummary(results: Results, ctx: ReportContext): string {
  const ran = (w: WorkloadName): boolean => results.outcomes(w).length > 0;
  const rows: string[][] = COMPARISONS.filter((c) => ran(c.podyard)).map((c) => {
    const p = results.median(c.podyard, (f) => f.wallMs);
    const q = results.median(c.peer, (f) => f.wallMs);
    const ratio = p !== undefined && q !== undefined && q > 0 ? p / q : undefined;
    const verdict = ratio === undefined ? "n/a" : ratio <= c.target ? "met" : "missed";
    const peer = c.peer === "podman-pull" ? `podman (${ctx.podmanDriver})` : "skopeo";
    return [c.label, ms(p), `${ms(q)} ${peer}`, ratio === undefined ? "-" : `${ratio.toFixed(2)}x`, `≤ ${c.target.toFixed(2)}x`, verdict];
  });
  for (const r of RSS_ROWS.filter((x) => ran(x.workload))) {
    const rssMax = results.max(r.workload, (f) => f.peakRss);
    const rssMedian = results.median(r.workload, (f) => f.peakRss);
    rows.push([
      r.label,
      mb(rssMax),
      rssMedian === undefined ? "-" : `median ${mb(rssMedian)}`,
      "",
      `< ${RSS_TARGET_MB} MB`,
      rssMax === undefined ? "n/a" : rssMax < RSS_TARGET_MB * MB ? "met" : "missed",
    ]);
  }
  return table(["comparison (wall time, medians)", "podyard", "peer", "ratio", "target", ""], rows, 1);
}

/** Medians of the V8 heap and Buffer peaks the memory probe saw, "-" for runs without the probe. */
function memory(results: Results, w: WorkloadName): string {
  const heap = results.median(w, (f) => f.memory?.heapUsed);
  const buffers = results.median(w, (f) => f.memory?.arrayBuffers);
  if (heap === undefined || buffers === undefined) return "-";
  return `${(heap / MB).toFixed(0)} / ${(buffers / MB).toFixed(0)} MB`;
}

/** One row per workload: wall time median (min–max), throughput, peak RSS, bytes left on disk. */
export function formatWorkloads(results: Results, ctx: ReportContext, workloads: readonly WorkloadName[]): string {
  const rows = workloads.map((w) => {
    const figs = results.figures(w);
    const walls = figs.map((f) => f.wallMs);
    const wall = results.median(w, (f) => f.wallMs);
    const inProc = results.median(w, (f) => f.inProcessMs);
    const spread = walls.length > 1 ? ` (${Math.min(...walls).toFixed(0)}–${Math.max(...walls).toFixed(0)})` : "";
    return [
      LABELS[w],
      `${figs.length}/${results.outcomes(w).length}`,
      wall === undefined ? "failed" : `${wall.toFixed(0)}${spread}`,
      wall === undefined ? "-" : (ctx.compressedBytes / MB / (wall / 1000)).toFixed(0),
      inProc === undefined ? "-" : inProc.toFixed(0),
      mb(results.median(w, (f) => f.peakRss)),
      memory(results, w),
      mb(results.median(w, (f) => f.diskBytes)),
    ];
  });
  return table(["workload", "ok", "wall ms median (min–max)", "MB/s", "in-process ms", "peak RSS", "heap / Buffers peak", "on disk"], rows, 1);
}

/** The first line of a failure (command and status) and the last lines of its output. */
function shortError(error: string, keep = 12): string[] {
  const lines = error.split("\n");
  if (lines.length <= keep + 1) return lines;
  return [lines[0] ?? "", `[${lines.length - 1 - keep} lines left out]`, ...lines.slice(-keep)];
}

/** Every round's wall time and RSS, and every failure in full. */
export function formatRounds(results: Results, workloads: readonly WorkloadName[]): string {
  const lines: string[] = [];
  for (const w of workloads) {
    const cells = results.outcomes(w).map((o, i) =>
      "figures" in o ? `r${i + 1} ${o.figures.wallMs.toFixed(0)} ms/${mb(o.figures.peakRss)}` : `r${i + 1} failed`,
    );
    lines.push(`${w.padEnd(19)} ${cells.join(", ")}`);
    const seen = new Map<string, number>();
    results.outcomes(w).forEach((o, i) => {
      if (!("error" in o)) return;
      // the same failure in another run dir (…/r/12-podyard-pull/…) is the same failure
      const key = o.error.replace(/\/r\/\d+-/g, "/r/*-");
      const first = seen.get(key);
      if (first !== undefined) {
        lines.push(`${" ".repeat(20)}r${i + 1}: the same as r${first}`);
        return;
      }
      seen.set(key, i + 1);
      lines.push(`${" ".repeat(20)}r${i + 1}: ${shortError(o.error).join(`\n${" ".repeat(24)}`)}`);
    });
  }
  return lines.join("\n");
}
