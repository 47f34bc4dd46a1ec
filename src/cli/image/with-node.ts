/** The image commands' frame: the node's state opened and closed around each; table and age formats. */
import { exitOnSignals } from "../../fsutil/index.js";
import { openNodeEnv, type NodeEnv, type NodeEnvOptions } from "../node-env.js";

/**
 * Runs `fn` against the node's image state, closing it afterwards. A ^C (or SIGTERM,
 * SIGHUP) meanwhile ends the command with 130 (143, 129) and takes what it was writing
 * along: the lock's PID file, a `save -o` file not yet complete.
 */
export async function withNode<T>(fn: (env: NodeEnv) => Promise<T>, opts: NodeEnvOptions = {}): Promise<T> {
  const stopListening = exitOnSignals();
  try {
    const env = await openNodeEnv(opts);
    try {
      await env.imageService.upgradeRecords();
      return await fn(env);
    } finally {
      env.close();
    }
  } finally {
    stopListening();
  }
}

export function print(line = ""): void {
  process.stdout.write(`${line}\n`);
}

/** "3 seconds ago", "2 days ago", as docker writes ages. */
export function humanAge(fromMs: number, nowMs: number = Date.now()): string {
  const s = Math.max(0, Math.round((nowMs - fromMs) / 1000));
  const units: [number, string][] = [[365 * 86400, "year"], [30 * 86400, "month"], [7 * 86400, "week"], [86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  for (const [size, name] of units) {
    const n = Math.floor(s / size);
    if (n >= 1) return `${n === 1 && name !== "second" ? (name === "hour" ? "An" : "A") : n} ${name}${n === 1 ? "" : "s"} ago`;
  }
  return "Less than a second ago";
}

/** Columns padded like docker's tables (3 spaces between). */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join("").trimEnd());
}
