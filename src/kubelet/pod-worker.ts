/**
 * One pod worker (pod_workers.go): a loop per pod UID that runs the pod's current step — sync
 * (repeated), terminating, terminated, finished — and then waits for the requeue delay the step
 * asked for, or for a kick (a new pod version from its source, a runtime change seen by the
 * relist, a probe result). Steps never overlap; a kick during a step makes the next run at once.
 */
import type { Pod } from "../api/index.js";
import type { Clock } from "../clock/index.js";
import { PodSyncState } from "./pod-sync.js";

export type WorkerPhase = "sync" | "terminating" | "terminated" | "finished";

export class PodWorker {
  readonly uid: string;
  pod: Pod;
  phase: WorkerPhase = "sync";
  /** The pod left its source (deleted from the API, or its manifest file went). */
  gone = false;
  /** From a static pod's manifest, not the API. */
  readonly isStatic: boolean;
  readonly state = new PodSyncState();
  deleteSent = false;
  stopped = false;
  readonly #clock: Clock;
  #kicked = false;
  #wake: AbortController | undefined;
  #done: Promise<void> = Promise.resolve();

  constructor(pod: Pod, clock: Clock, isStatic: boolean) {
    this.uid = pod.metadata.uid ?? "";
    this.pod = pod;
    this.#clock = clock;
    this.isStatic = isStatic;
  }

  update(pod: Pod): void {
    this.pod = pod;
    this.kick();
  }

  kick(): void {
    this.#kicked = true;
    this.#wake?.abort();
  }

  /** Runs `step` until it returns a negative delay or the worker is stopped. */
  start(step: (w: PodWorker) => Promise<number>): void {
    this.#done = (async () => {
      while (!this.stopped) {
        this.#kicked = false;
        const delay = await step(this);
        if (delay < 0 || this.stopped) break;
        if (this.#kicked || delay === 0) continue;
        const wake = new AbortController();
        this.#wake = wake;
        try {
          if (Number.isFinite(delay)) await this.#clock.sleep(delay, wake.signal);
          else await new Promise<void>((_, reject) => wake.signal.addEventListener("abort", () => reject(new Error("kicked")), { once: true }));
        } catch {
          // kicked
        }
        this.#wake = undefined;
      }
    })();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.#wake?.abort();
    return this.#done;
  }

  get done(): Promise<void> {
    return this.#done;
  }
}
