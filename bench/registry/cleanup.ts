// Undo stack of the benchmark: stops the servers it started and removes its temp dirs, on the normal path,
// on an error and on SIGINT/SIGTERM. A synchronous fallback runs at process exit for anything left over.

interface Step {
  readonly label: string;
  readonly run: () => Promise<void>;
  readonly runSync: () => void;
}

export class Cleanup {
  readonly #steps: Step[] = [];
  #running: Promise<void> | undefined;

  /** Registers an undo step; steps run last-in first-out. `runSync` is the best effort used at process exit. */
  add(label: string, steps: { run: () => Promise<void>; runSync: () => void }): void {
    this.#steps.push({ label, ...steps });
  }

  /** Runs every step once; later calls return the same promise. A failing step is reported and skipped. */
  run(): Promise<void> {
    this.#running ??= (async () => {
      while (this.#steps.length > 0) {
        const step = this.#steps.pop();
        if (step === undefined) break;
        try {
          await step.run();
        } catch (err) {
          process.stderr.write(`cleanup: ${step.label}: ${err instanceof Error ? err.message : String(err)}\n`);
        }
      }
    })();
    return this.#running;
  }

  /** Runs the synchronous fallbacks of the steps not yet run (for the 'exit' event). */
  runSync(): void {
    while (this.#steps.length > 0) {
      const step = this.#steps.pop();
      if (step === undefined) break;
      try {
        step.runSync();
      } catch {
        // best effort at exit
      }
    }
  }

  /**
   * Runs the undo stack on SIGINT, SIGTERM or SIGHUP, then exits 128+signal; runs the synchronous fallback at
   * exit. The handlers stay installed, so a repeated signal (a terminal's Ctrl-C reaches this process both
   * directly and relayed by tsx) cannot kill the process halfway through the cleanup.
   */
  installSignalHandlers(): void {
    const codes: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
    let stopping = false;
    for (const [signal, code] of Object.entries(codes)) {
      process.on(signal, () => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`\n${signal}: stopping servers and removing temp files\n`);
        void this.run().finally(() => process.exit(code));
      });
    }
    process.once("exit", () => this.runSync());
  }
}
