/**
 * V8 heap settings for the long-running agent (`podyard up`, its `-d` child, `podyard kubelet`).
 * Node's defaults suit a short burst of work: the young generation grows to 2 x 16 MiB and the
 * old generation may grow to several times what a full collection left live before the next
 * one. With 100 pods the agent then sat at ~145 MB resident while under 20 MB of its heap was
 * live. The young generation's cap can only be given on the command line, so the agent's
 * process gets these flags from bin/podyard.js's `#!` line (the `podyard` command), from the
 * `up -d` parent that spawns it, and from the benchmarks, which spawn it as `up -d` would.
 */
import { setFlagsFromString } from "node:v8";

/**
 * --max-semi-space-size=2: a young generation of 2 x 2 MiB. An idle agent allocates ~0.5 MB/s,
 * so that is a scavenge every few seconds, each well under a millisecond; 1 MiB promoted so much
 * of a burst's short-lived state that the agent used ~1 % of a core more in the seconds after it.
 * --heap-growing-percent=50: the next full collection comes once the old generation has grown by
 * half of what the last one left live, instead of up to 4 times it.
 * (--optimize-for-size saves a few MB more, but its memory reducer costs ~1 % of a core after each burst.)
 */
export const AGENT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=2", "--heap-growing-percent=50"];

const flagName = (f: string): string => f.split("=")[0]?.replace(/_/g, "-") ?? f;

/** `execArgv` with every AGENT_NODE_FLAGS flag it does not set already (its own values win). */
export function withAgentFlags(execArgv: readonly string[]): string[] {
  const have = new Set(execArgv.map(flagName));
  return [...AGENT_NODE_FLAGS.filter((f) => !have.has(flagName(f))), ...execArgv];
}

/**
 * For an agent started without the flags (`node bin/podyard.js up`, `node dist/main.js up`):
 * applies the one V8 reads at every collection; the young generation keeps Node's default.
 */
export function tuneAgentHeap(execArgv: readonly string[] = process.execArgv): void {
  const have = new Set(execArgv.map(flagName));
  for (const f of AGENT_NODE_FLAGS) if (f.startsWith("--heap-growing-percent") && !have.has(flagName(f))) setFlagsFromString(f);
}
