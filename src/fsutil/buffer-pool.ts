/**
 * Fixed-size I/O buffers lent out and given back, so that a stream of large chunks
 * (socket reads, file reads) reuses a few buffers instead of leaving one garbage buffer
 * per chunk: V8 frees garbage buffers only at its next full collection, so without this
 * a pull's memory grows with every chunk until then. A chunk is a view of a lent buffer;
 * its last consumer gives it back with `recycle` once it holds no view of it anymore.
 * A chunk never given back is ordinary garbage; `recycle` of anything not lent is ignored.
 */
export class BufferPool {
  readonly size: number;
  readonly #maxIdle: number;
  readonly #idle: Buffer[] = [];
  readonly #lent = new WeakSet<ArrayBufferLike>();

  constructor(size: number, maxIdle = 8) {
    this.size = size;
    this.#maxIdle = maxIdle;
  }

  /** A buffer to fill: an idle one, or a new one. It is not lent until `lend`. */
  take(): Buffer {
    return this.#idle.pop() ?? Buffer.allocUnsafeSlow(this.size);
  }

  /** Marks `buf` (from `take`) as lent out with the chunks viewing it. */
  lend(buf: Buffer): void {
    this.#lent.add(buf.buffer);
  }

  /** Gives back the buffer under `chunk`, if it is lent: the caller must hold no other view of it. */
  recycle(chunk: Uint8Array): void {
    const ab = chunk.buffer;
    if (!this.#lent.has(ab)) return;
    this.#lent.delete(ab);
    if (this.#idle.length < this.#maxIdle) this.#idle.push(Buffer.from(ab, 0, this.size));
  }
}
