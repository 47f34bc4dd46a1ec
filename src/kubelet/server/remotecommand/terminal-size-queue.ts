/** Terminal sizes from the resize channel, as the AsyncIterable the runtime reads (kubelet's TerminalSizeQueue). */
import type { TerminalSize } from "../../../runtime/index.js";

export class TerminalSizeQueue implements AsyncIterable<TerminalSize> {
  #pending: TerminalSize[] = [];
  #waiting: ((r: IteratorResult<TerminalSize>) => void)[] = [];
  #ended = false;

  /** Takes one `{"Width":80,"Height":24}` message; malformed ones are dropped as the kubelet does. */
  pushJson(text: string): void {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof v !== "object" || v === null) return;
    const { Width, Height } = v as { Width?: unknown; Height?: unknown };
    if (typeof Width !== "number" || typeof Height !== "number") return;
    this.push({ width: Width, height: Height });
  }

  push(size: TerminalSize): void {
    if (this.#ended) return;
    const waiter = this.#waiting.shift();
    if (waiter) waiter({ value: size, done: false });
    else this.#pending.push(size);
  }

  end(): void {
    this.#ended = true;
    for (const w of this.#waiting.splice(0)) w({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<TerminalSize> {
    return {
      next: () => {
        const size = this.#pending.shift();
        if (size) return Promise.resolve({ value: size, done: false });
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiting.push(resolve));
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
