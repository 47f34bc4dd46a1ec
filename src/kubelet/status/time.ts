/** Timestamps as the API writes them: RFC 3339, whole seconds, UTC (normalizeStatus truncates to seconds). */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
