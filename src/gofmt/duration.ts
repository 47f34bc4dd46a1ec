/** Go's `time.Duration.String()`, which the kubelet's event texts print (`313ms`, `1.627s`, `2m3.5s`, `1h0m0s`). */

/** `n` nanoseconds over `unit` as `int[.frac]`, the fraction's trailing zeros dropped. */
function fixed(n: bigint, unit: bigint): string {
  const whole = n / unit;
  const frac = n % unit;
  if (frac === 0n) return whole.toString();
  const digits = (unit.toString().length - 1);
  return `${whole}.${frac.toString().padStart(digits, "0").replace(/0+$/, "")}`;
}

/** Formats a duration given in milliseconds (fractions allowed down to nanoseconds). */
export function formatGoDuration(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  const neg = ns < 0n;
  if (neg) ns = -ns;
  const sign = neg ? "-" : "";
  if (ns === 0n) return "0s";
  if (ns < 1000n) return `${sign}${ns}ns`;
  if (ns < 1_000_000n) return `${sign}${fixed(ns, 1000n)}µs`;
  if (ns < 1_000_000_000n) return `${sign}${fixed(ns, 1_000_000n)}ms`;
  const hours = ns / 3_600_000_000_000n;
  const rest = ns % 3_600_000_000_000n;
  const minutes = rest / 60_000_000_000n;
  const seconds = fixed(rest % 60_000_000_000n, 1_000_000_000n);
  if (hours > 0n) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0n) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}
