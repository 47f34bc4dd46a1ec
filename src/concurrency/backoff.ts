/**
 * Per-item exponential back-off (client-go `util/flowcontrol.Backoff`, without jitter, as the
 * kubelet uses it): the first failure waits `initialMs`, each further one doubles it up to
 * `maxMs`; an item quiet for longer than twice `maxMs` starts over. The kubelet keys image
 * pulls by `podUID_image` and container restarts by pod and container.
 */
import type { Clock } from "../clock/index.js";

/** Whether an entry last updated at `lastUpdateMs` no longer counts at `eventTimeMs`. */
export type BackoffExpiry = (eventTimeMs: number, lastUpdateMs: number, maxMs: number) => boolean;

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  clock: Clock;
  /** Default: more than 2 × maxMs since the last update. */
  hasExpired?: BackoffExpiry;
}

interface Entry {
  backoffMs: number;
  lastUpdateMs: number;
}

export class Backoff {
  readonly clock: Clock;
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #hasExpired: BackoffExpiry;
  readonly #entries = new Map<string, Entry>();

  constructor(opts: BackoffOptions) {
    if (!(opts.initialMs > 0) || !(opts.maxMs >= opts.initialMs)) {
      throw new RangeError(`back-off needs 0 < initialMs <= maxMs, got initialMs ${opts.initialMs}, maxMs ${opts.maxMs}`);
    }
    this.clock = opts.clock;
    this.#initialMs = opts.initialMs;
    this.#maxMs = opts.maxMs;
    this.#hasExpired = opts.hasExpired ?? ((eventTimeMs, lastUpdateMs, maxMs) => eventTimeMs - lastUpdateMs > 2 * maxMs);
  }

  /** The current delay of `id` in ms; 0 when it has none. */
  get(id: string): number {
    return this.#entries.get(id)?.backoffMs ?? 0;
  }

  /** Records a failure of `id` at `eventTimeMs`: starts at initialMs, or doubles (capped at maxMs). */
  next(id: string, eventTimeMs: number): void {
    const entry = this.#entries.get(id);
    const backoffMs = entry === undefined || this.#hasExpired(eventTimeMs, entry.lastUpdateMs, this.#maxMs)
      ? this.#initialMs
      : Math.min(entry.backoffMs * 2, this.#maxMs);
    this.#entries.set(id, { backoffMs, lastUpdateMs: this.clock.now() });
  }

  /** Forgets `id` (client-go `Reset`). */
  reset(id: string): void {
    this.#entries.delete(id);
  }

  /** Same as reset (client-go `DeleteEntry`). */
  deleteEntry(id: string): void {
    this.#entries.delete(id);
  }

  /** Whether less than the delay has passed between `eventTimeMs` and now. */
  isInBackOffSince(id: string, eventTimeMs: number): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined || this.#hasExpired(eventTimeMs, entry.lastUpdateMs, this.#maxMs)) return false;
    return this.clock.now() - eventTimeMs < entry.backoffMs;
  }

  /** Whether less than the delay has passed between the last failure and `eventTimeMs`. */
  isInBackOffSinceUpdate(id: string, eventTimeMs: number): boolean {
    const entry = this.#entries.get(id);
    if (entry === undefined || this.#hasExpired(eventTimeMs, entry.lastUpdateMs, this.#maxMs)) return false;
    return eventTimeMs - entry.lastUpdateMs < entry.backoffMs;
  }

  /** Drops the entries not updated for more than 2 × maxMs (client-go `GC`, whatever hasExpired says). */
  gc(): void {
    const now = this.clock.now();
    for (const [id, entry] of this.#entries) if (now - entry.lastUpdateMs > 2 * this.#maxMs) this.#entries.delete(id);
  }

  /** How many items have an entry. */
  get size(): number {
    return this.#entries.size;
  }
}
