/**
 * Keeps the kernel's cgroup-migration lock on its fast path while containers are being made.
 *
 * Every move of a process into a cgroup (`crun create` moving the container's init, `crun exec`
 * moving the exec'd process) takes one global percpu rwsem for writing (cgroup_threadgroup_rwsem;
 * cgroup v1, and v2 without the favordynmods mount option). Taking it after a quiet moment waits
 * for an RCU grace period: 6–15 ms on these machines, against 0.01 ms when another move happened
 * within the last grace period (runtime-notes has no word on it; measured with a loop of writes to
 * cgroup.procs at growing gaps). On a pod's start that wait is paid by each container's create.
 *
 * While containers are being created or exec'd, the runtime moves podyard into the cgroup it is
 * already in every few milliseconds: a move of nothing that takes the same lock, from the thread
 * pool, so the first one's wait overlaps the sandbox's set-up and the event loop never waits. It
 * stops `lingerMs` after the last touch. Real time, not the injected clock: no behaviour depends on
 * it, only how long the kernel takes.
 */
import { writeFile } from "node:fs/promises";

export interface MigrationWarmthOptions {
  /** ms between two moves (one grace period here is ~8 ms; less keeps the lock warm) */
  intervalMs?: number;
  /** ms after the last touch that the moves go on */
  lingerMs?: number;
}

export class MigrationWarmth {
  readonly #procsFile: string;
  readonly #pid: string;
  readonly #intervalMs: number;
  readonly #lingerMs: number;
  #until = 0;
  #running = false;
  #disabled = false;

  /** `procsFile`: the cgroup.procs of a cgroup this process is in (moving it there changes nothing). */
  constructor(procsFile: string, pid: number = process.pid, opts: MigrationWarmthOptions = {}) {
    this.#procsFile = procsFile;
    this.#pid = String(pid);
    this.#intervalMs = opts.intervalMs ?? 4;
    this.#lingerMs = opts.lingerMs ?? 150;
  }

  /** Keeps the lock warm for the next lingerMs. */
  touch(): void {
    if (this.#disabled) return;
    this.#until = performance.now() + this.#lingerMs;
    if (!this.#running) void this.#run();
  }

  /** Whether moves are still being made (false once the linger ran out, or when moves are refused). */
  get active(): boolean {
    return this.#running;
  }

  /** No more moves (a loop in progress ends after its current write). */
  stop(): void {
    this.#until = 0;
  }

  async #run(): Promise<void> {
    this.#running = true;
    try {
      while (performance.now() < this.#until) {
        try {
          await writeFile(this.#procsFile, this.#pid);
        } catch {
          // not allowed here (no cgroup write access, another layout): containers start as before
          this.#disabled = true;
          return;
        }
        await new Promise<void>((resolve) => setTimeout(resolve, this.#intervalMs).unref());
      }
    } finally {
      this.#running = false;
    }
  }
}
