/**
 * The kubelet's crash-loop back-off (kubelet.go newCrashLoopBackOff): client-go's Backoff from
 * 10 s doubling to 300 s, with the kubelet's own reset rule — a crash more than 600 s after the
 * last restart starts the ladder again.
 */
import type { Clock } from "../clock/index.js";
import { Backoff } from "../concurrency/index.js";

export const INITIAL_CRASH_LOOP_BACKOFF_MS = 10_000;
export const MAX_CRASH_LOOP_BACKOFF_MS = 300_000;

export function newCrashLoopBackOff(clock: Clock): Backoff {
  return new Backoff({
    initialMs: INITIAL_CRASH_LOOP_BACKOFF_MS, maxMs: MAX_CRASH_LOOP_BACKOFF_MS, clock,
    hasExpired: (eventTimeMs, lastUpdateMs) => eventTimeMs - lastUpdateMs > 600_000,
  });
}
