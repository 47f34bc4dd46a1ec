/**
 * client-go's flowcontrol.Backoff on an injected clock: per id, a back-off that starts at
 * `initialMs`, doubles on each `next` up to `maxMs`, and starts over once `hasExpired` says the
 * entry is stale. The kubelet's crash-loop back-off uses it with 10 s, 300 s and the kubelet's own
 * expiry rule (600 s between the event and the last restart). (A local copy until
 * src/concurrency's Backoff lands; same methods.)
 */
import type { Clock } from "../clock/index.js";

interface Entry {
  backoffMs: number;
  lastUpdateMs: number;
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  clock: Clock;
  /** client-go's default: the entry is stale when eventTime - lastUpdate > 2 × max. */
  hasExpired?: (eventTimeMs: number, lastUpdateMs: number, maxMs: number) => boolean;
}

export class Backoff {
  readonly #entries = new Map<string, Entry>();
  readonly #opts: BackoffOptions;
  readonly #expired: (e: number, l: number, m: number) => boolean;

  constructor(opts: BackoffOptions) {
    this.#opts = opts;
    this.#expired = opts.hasExpired ?? ((e, l, m) => e - l > 2 * m);
  }

  /** The current back-off of `id` in ms (0 when it has none). */
  get(id: string): number {
    return this.#entries.get(id)?.backoffMs ?? 0;
  }

  /** Moves `id` one step up the ladder (or starts it) as of `eventTimeMs`. */
  next(id: string, eventTimeMs: number): void {
    const now = this.#opts.clock.now();
    const e = this.#entries.get(id);
    if (!e || this.#expired(eventTimeMs, e.lastUpdateMs, this.#opts.maxMs)) {
      this.#entries.set(id, { backoffMs: this.#opts.initialMs, lastUpdateMs: now });
      return;
    }
    e.backoffMs = Math.min(e.backoffMs * 2, this.#opts.maxMs);
    e.lastUpdateMs = now;
  }

  /** Whether, for an event at `eventTimeMs`, `id` is still backing off now. */
  isInBackOffSince(id: string, eventTimeMs: number): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    if (this.#expired(eventTimeMs, e.lastUpdateMs, this.#opts.maxMs)) return false;
    return this.#opts.clock.now() - eventTimeMs < e.backoffMs;
  }

  /** Whether `id` is backing off counted from its last update. */
  isInBackOffSinceUpdate(id: string, eventTimeMs: number): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    if (this.#expired(eventTimeMs, e.lastUpdateMs, this.#opts.maxMs)) return false;
    return eventTimeMs - e.lastUpdateMs < e.backoffMs;
  }

  /** Drops entries idle for more than 2 × max. */
  gc(): void {
    const now = this.#opts.clock.now();
    for (const [id, e] of this.#entries) if (now - e.lastUpdateMs > 2 * this.#opts.maxMs) this.#entries.delete(id);
  }

  deleteEntry(id: string): void {
    this.#entries.delete(id);
  }
}

/** The kubelet's crash-loop back-off: 10 s doubling to 300 s, reset when a crash comes > 600 s after the last restart. */
export function newCrashLoopBackOff(clock: Clock): Backoff {
  return new Backoff({ initialMs: 10_000, maxMs: 300_000, clock, hasExpired: (e, l) => e - l > 600_000 });
}
