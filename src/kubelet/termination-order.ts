/**
 * The order a pod's containers stop in (the kubelet's terminationOrdering): regular containers
 * first, then the sidecars (restartable init containers) from the last to the first. Every
 * container begins its stop at once; a sidecar only waits, at most its grace, for the ones it must
 * outlive, so the whole pod still stops within one grace period.
 */
import type { Clock } from "../clock/index.js";
import type { Pod } from "../api/index.js";
import { isSidecar } from "./status/phase.js";

export class TerminationOrdering {
  readonly #clock: Clock;
  readonly #done = new Map<string, () => void>();
  readonly #terminated = new Map<string, Promise<void>>();
  readonly #prereqs = new Map<string, Promise<void>[]>();

  /** `running`: the names of the containers being stopped; the others count as stopped already. */
  constructor(pod: Pod, running: readonly string[], clock: Clock) {
    this.#clock = clock;
    const isRunning = new Set(running);
    const channel = (name: string): Promise<void> => {
      const p = isRunning.has(name) ? new Promise<void>((resolve) => this.#done.set(name, resolve)) : Promise.resolve();
      this.#terminated.set(name, p);
      return p;
    };
    const regular = pod.spec.containers.map((c) => channel(c.name));
    let later: string | undefined;
    const inits = pod.spec.initContainers ?? [];
    for (let i = inits.length - 1; i >= 0; i--) {
      const ic = inits[i]!;
      void channel(ic.name);
      // only sidecars wait; a plain init container stops alongside the regular ones
      if (!isSidecar(ic)) continue;
      const waits = [...regular];
      const next = later !== undefined ? this.#terminated.get(later) : undefined;
      if (next) waits.push(next);
      this.#prereqs.set(ic.name, waits);
      later = ic.name;
    }
  }

  /** Waits until `name` may begin to stop, at most `graceSeconds`; returns the seconds waited (not rounded). */
  async waitForTurn(name: string, graceSeconds: number): Promise<number> {
    if (graceSeconds <= 0) return 0;
    const waits = this.#prereqs.get(name) ?? [];
    const start = this.#clock.now();
    if (waits.length > 0) {
      const ac = new AbortController();
      const expired = this.#clock.sleep(graceSeconds * 1000, ac.signal).catch(() => undefined);
      await Promise.race([Promise.all(waits), expired]);
      ac.abort();
    }
    return (this.#clock.now() - start) / 1000;
  }

  /** Called once `name` has stopped, letting the containers that wait for it go. */
  containerTerminated(name: string): void {
    this.#done.get(name)?.();
  }
}
