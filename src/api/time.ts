/** How meta/v1 writes times: `Time` in whole seconds, `MicroTime` with microseconds, both RFC 3339 in UTC. */

/** metav1.Time: `2026-12-03T10:00:00Z` (the milliseconds dropped, as the API truncates to seconds). */
export function formatTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** metav1.MicroTime: `2026-12-03T10:00:00.123000Z` (JavaScript's milliseconds, three zeros on). */
export function formatMicroTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
