/**
 * The buffers plain-HTTP sockets read response bodies into (see plain-http.ts). A body
 * chunk that fills a good part of its buffer is handed on as a view of it, not copied;
 * whoever consumes the chunk last gives it back with `recycleChunk` once done with it,
 * and a later read reuses the buffer (BlobFetcher does, after each write). A download
 * then makes almost no garbage, so memory stays flat however large the image.
 */
import { BufferPool } from "../../fsutil/index.js";

export const READ_BUFFER_BYTES = 512 << 10;
/** Chunks this large or larger are lent, not copied. */
export const LEND_MIN_BYTES = READ_BUFFER_BYTES >> 2;

export const readBuffers = new BufferPool(READ_BUFFER_BYTES);

/** Gives back the read buffer under a body chunk; see BufferPool.recycle. */
export function recycleChunk(chunk: Uint8Array): void {
  readBuffers.recycle(chunk);
}
