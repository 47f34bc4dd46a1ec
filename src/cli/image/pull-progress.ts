/**
 * `docker pull`'s progress display: one line per layer. On a terminal the lines are
 * redrawn in place with a bar; otherwise each status change is printed once.
 */
import { digestEncoded, type Digest } from "../../oci/index.js";
import type { PullEvent } from "../../images/index.js";

export interface ProgressWriter {
  write(text: string): void;
  isTTY?: boolean;
  columns?: number;
}

function shortID(d: Digest): string {
  return digestEncoded(d).slice(0, 12);
}

export function formatBytes(n: number): string {
  if (n < 1000) return `${n}B`;
  const units = ["kB", "MB", "GB", "TB"];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)}${units[i] ?? "B"}`;
}

function bar(current: number, total: number, width = 50): string {
  const filled = total > 0 ? Math.min(width, Math.floor((current / total) * width)) : 0;
  return `[${"=".repeat(Math.max(filled - 1, 0))}${filled > 0 ? ">" : ""}${" ".repeat(width - filled)}]`;
}

export class PullProgress {
  readonly #out: ProgressWriter;
  readonly #order: Digest[] = [];
  readonly #lines = new Map<Digest, string>();
  readonly #last = new Map<Digest, string>();
  #drawn = 0;

  constructor(out: ProgressWriter) {
    this.#out = out;
  }

  on(e: PullEvent): void {
    if (e.kind === "resolved") return;
    if (!this.#lines.has(e.digest)) this.#order.push(e.digest);
    const id = shortID(e.digest);
    let line = `${id}: ${e.status}`;
    if (e.status === "Downloading" && e.current !== undefined && e.total !== undefined && this.#out.isTTY) {
      line = `${id}: Downloading ${bar(e.current, e.total)} ${formatBytes(e.current)}/${formatBytes(e.total)}`;
    }
    this.#lines.set(e.digest, line);
    if (this.#out.isTTY) this.#redraw();
    else if (this.#last.get(e.digest) !== e.status) {
      this.#last.set(e.digest, e.status);
      this.#out.write(`${line}\n`);
    }
  }

  #redraw(): void {
    let text = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const d of this.#order) text += `\x1b[2K${this.#lines.get(d) ?? ""}\n`;
    this.#drawn = this.#order.length;
    this.#out.write(text);
  }
}
