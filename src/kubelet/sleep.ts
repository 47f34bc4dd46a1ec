/** A sleep on the injected clock that a long-lived signal can cut short, without piling listeners on that signal. */
import type { Clock } from "../clock/index.js";

/** Resolves true after `ms`, false when `signal` aborted first. */
export async function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  const ac = new AbortController();
  const onAbort = (): void => ac.abort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    await clock.sleep(ms, ac.signal);
    return true;
  } catch {
    return false;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
