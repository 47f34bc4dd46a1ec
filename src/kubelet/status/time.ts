/** Timestamps as the API writes them: RFC 3339, whole seconds, UTC (normalizeStatus truncates to seconds). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Go's `%s` of a []string: `[a b]`. */
export function goList(items: string[]): string {
  return `[${items.join(" ")}]`;
}

/** Go's time.Duration String() for whole milliseconds: `10s`, `1m20s`, `5m0s`, `300ms`. */
export function goDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${ms}ms`;
  const totalS = ms / 1000;
  const h = Math.floor(totalS / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS - h * 3600 - m * 60;
  const sec = `${Number.isInteger(s) ? s : Number(s.toFixed(9))}s`;
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}
