/** A counting semaphore: at most `n` tasks run at once, the rest wait in order. */
export class Limiter {
  readonly #max: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`limit must be a positive integer, got ${max}`);
    this.#max = max;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#max) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}

/** One run per key at a time: callers with the same key share the first caller's promise. */
export class SingleFlight<T> {
  readonly #inflight = new Map<string, Promise<T>>();

  do(key: string, task: () => Promise<T>): Promise<T> {
    const cur = this.#inflight.get(key);
    if (cur) return cur;
    const p = task().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }
}
