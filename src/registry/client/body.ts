/** Reading and discarding response bodies without trusting their size. */
import { ResourceExhaustedError } from "../../errdefs/index.js";

/**
 * Reads a whole response body of at most `limit` bytes. A declared or actual size above
 * the limit cancels the body and throws `tooLarge()` (a ResourceExhaustedError by default):
 * registries must not be able to exhaust memory (CVE-2020-1702).
 */
export async function readLimited(res: Response, limit: number, tooLarge?: () => Error): Promise<Buffer> {
  const fail = (): Error => (tooLarge ? tooLarge() : new ResourceExhaustedError(`response body from ${res.url} exceeds ${limit} bytes`));
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) {
    discard(res);
    throw fail();
  }
  if (!res.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > limit) throw fail();
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    throw err;
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks, size);
}

/** Drops a body we will not read, so its connection can be reused or closed. */
export function discard(res: Response): void {
  if (res.body && !res.bodyUsed) res.body.cancel().catch(() => undefined);
}
