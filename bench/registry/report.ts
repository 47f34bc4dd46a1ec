// Collects per-round figures and prints the comparison table. Figures are informational: nothing here fails.
import type { PeerName } from "./peers.js";

export type WorkloadName = "push" | "pull" | "manifest";

export const WORKLOADS: readonly WorkloadName[] = ["push", "pull", "manifest"];
export const PEERS: readonly PeerName[] = ["distribution", "podyard"];

/** Targets for podyard/distribution; every figure is higher-is-better. */
const TARGETS: Record<WorkloadName, number> = { push: 1.2, pull: 0.8, manifest: 1.0 };

/** One round of one workload on one server: a figure, or why there is none. */
export type Outcome = { readonly value: number; readonly note?: string } | { readonly error: string };

export class Results {
  readonly #outcomes = new Map<string, Outcome[]>();

  add(peer: PeerName, workload: WorkloadName, outcome: Outcome): void {
    const key = `${peer}/${workload}`;
    const list = this.#outcomes.get(key) ?? [];
    list.push(outcome);
    this.#outcomes.set(key, list);
  }

  outcomes(peer: PeerName, workload: WorkloadName): readonly Outcome[] {
    return this.#outcomes.get(`${peer}/${workload}`) ?? [];
  }

  /** Median of the successful rounds, undefined when none succeeded. */
  median(peer: PeerName, workload: WorkloadName): number | undefined {
    const values = this.outcomes(peer, workload).flatMap((o) => ("value" in o ? [o.value] : []));
    return median(values);
  }
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const hi = s[mid] ?? Number.NaN;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? Number.NaN) + hi) / 2;
}

export interface ReportContext {
  readonly layers: number;
  readonly layerMB: number;
  readonly concurrency: number;
  readonly rounds: number;
  /** Why a server has no figures at all (failed to start). */
  readonly unavailable: ReadonlyMap<PeerName, string>;
}

function label(workload: WorkloadName, ctx: ReportContext): string {
  const image = `${ctx.layers}×${ctx.layerMB} MB`;
  switch (workload) {
    case "push":
      return `push ${image} (MB/s)`;
    case "pull":
      return `blob pull ${image} (MB/s)`;
    case "manifest":
      return `manifest GET c=${ctx.concurrency} (req/s)`;
  }
}

function figure(v: number | undefined): string {
  if (v === undefined) return "failed";
  return v >= 1000 ? v.toFixed(0) : v.toFixed(1);
}

function pad(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ").trimEnd();
}

/** The summary table: medians per server, the ratio podyard/distribution and the target. */
export function formatTable(results: Results, ctx: ReportContext): string {
  const header = ["workload", "distribution", "podyard", "podyard/dist", "target", ""];
  const rows = WORKLOADS.map((w) => {
    const d = results.median("distribution", w);
    const p = results.median("podyard", w);
    const ratio = d !== undefined && p !== undefined && d > 0 ? p / d : undefined;
    const target = TARGETS[w];
    const verdict = ratio === undefined ? "n/a" : ratio >= target ? "met" : "below";
    return [
      label(w, ctx),
      figure(d),
      figure(p),
      ratio === undefined ? "-" : `${ratio.toFixed(2)}x`,
      `≥ ${target.toFixed(1)}x`,
      verdict,
    ];
  });
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((r) => (r[i] ?? "").length)));
  const lines = [pad(header, widths), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map((r) => pad(r, widths))];
  return lines.join("\n");
}

/** Per-round figures and every error, so a median can be checked against its spread. */
export function formatDetails(results: Results, ctx: ReportContext): string {
  const lines: string[] = [];
  for (const peer of PEERS) {
    const why = ctx.unavailable.get(peer);
    if (why !== undefined) {
      lines.push(`${peer}: failed to start: ${why.split("\n").join("\n    ")}`);
      continue;
    }
    for (const w of WORKLOADS) {
      const cells = results.outcomes(peer, w).map((o, i) =>
        "value" in o ? `r${i + 1} ${figure(o.value)}${o.note === undefined ? "" : ` (${o.note})`}` : `r${i + 1} failed`,
      );
      lines.push(`${peer.padEnd(12)} ${w.padEnd(8)} ${cells.join(", ")}`);
      results.outcomes(peer, w).forEach((o, i) => {
        if ("error" in o) lines.push(`${" ".repeat(22)}r${i + 1}: ${o.error}`);
      });
    }
  }
  return lines.join("\n");
}
