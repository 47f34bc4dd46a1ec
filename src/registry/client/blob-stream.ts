/**
 * A blob download as a Readable that checks what it streams: it hashes every byte,
 * fails as soon as more bytes arrive than expected, and after the last byte compares
 * size and digest. The last chunk is held back until that check passes, so a consumer
 * never sees the end of a blob that does not match. A connection cut mid-blob is
 * resumed with `Range: bytes=<received>-`; a server that answers 200 instead of 206 is
 * read from the start and the bytes already held are skipped (containerd does both).
 * Attempts after failures in a row without progress: as for requests (attemptsFor), so a
 * body that stalls past its timeout is tried once more.
 */
import { Readable } from "node:stream";
import type { Clock } from "../../clock/index.js";
import { FailedPreconditionError, UnavailableError } from "../../errdefs/index.js";
import { Digester, digestAlgorithm, type Digest } from "../../oci/index.js";
import { discard } from "./body.js";
import { attemptsFor, backoffMs, isNetworkError, networkErrorText, type RetryPolicy } from "./retry.js";

export interface BlobStreamOptions {
  digest: Digest;
  /** the bytes the caller already holds; the stream starts after them */
  offset: number;
  /** the blob's size when known (from its descriptor); else the server's word is taken */
  size: number | undefined;
  /**
   * A digester already fed the first `offset` bytes. Without one, a stream that starts
   * past 0 checks only the size.
   */
  digester: Digester | undefined;
  /**
   * Hash what streams past and compare with `digest` at the end (default true). A caller
   * that verifies the bytes itself, such as a content store's commit, turns it off so
   * every byte is hashed once; the size is checked either way.
   */
  verify?: boolean;
  /** "blob sha256:… in library/alpine at registry 127.0.0.1:5000", for messages */
  describe: string;
  clock: Clock;
  retry: RetryPolicy;
  /** GETs the blob from `offset` (with a Range header when above 0); throws on an error status */
  open: (offset: number) => Promise<Response>;
}

interface Window {
  /** bytes at the start of the body to drop: the server sent more than was asked */
  skip: number;
  total: number | undefined;
}

function window(res: Response, received: number, total: number | undefined, describe: string): Window {
  const length = res.headers.get("content-length");
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get("content-range") ?? "");
    if (!m) throw new UnavailableError(`${describe}: 206 without a valid Content-Range`);
    const start = Number(m[1]);
    const whole = m[3] === "*" ? undefined : Number(m[3]);
    if (start > received) throw new UnavailableError(`${describe}: asked for bytes from ${received}, got from ${start}`);
    if (whole !== undefined && total !== undefined && whole !== total) throw sizeMismatch(describe, whole, total);
    return { skip: received - start, total: total ?? whole };
  }
  const whole = length === null ? undefined : Number(length);
  if (whole !== undefined && total !== undefined && whole !== total) throw sizeMismatch(describe, whole, total);
  return { skip: received, total: total ?? whole };
}

function sizeMismatch(describe: string, got: number, want: number): FailedPreconditionError {
  return new FailedPreconditionError(`size mismatch: ${describe} has ${got} bytes, expected ${want}; refusing it`);
}

async function* verifiedChunks(first: Response, o: BlobStreamOptions): AsyncGenerator<Buffer> {
  const digester = o.verify === false ? undefined : o.digester ?? (o.offset === 0 ? new Digester(digestAlgorithm(o.digest)) : undefined);
  let received = o.offset;
  let total = o.size;
  let failures = 0;
  let held: Buffer | undefined;
  let res: Response | undefined = first;
  for (;;) {
    if (total !== undefined && received >= total) break;
    res ??= await o.open(received);
    const w = window(res, received, total, o.describe);
    total = w.total;
    let skip = w.skip;
    try {
      for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
        let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        if (skip > 0) {
          const n = Math.min(skip, buf.length);
          skip -= n;
          buf = buf.subarray(n);
          if (buf.length === 0) continue;
        }
        received += buf.length;
        if (total !== undefined && received > total) throw sizeMismatch(o.describe, received, total);
        digester?.update(buf);
        failures = 0;
        if (held) yield held;
        held = buf;
      }
      break;
    } catch (err) {
      if (!isNetworkError(err)) throw err;
      discard(res);
      res = undefined;
      if (++failures >= attemptsFor(err, o.retry)) {
        throw new UnavailableError(`${o.describe}: download failed after ${received} bytes: ${networkErrorText(err)}`, { cause: err });
      }
      await o.clock.sleep(backoffMs(failures, o.retry));
    }
  }
  if (total !== undefined && received !== total) throw sizeMismatch(o.describe, received, total);
  if (digester) {
    const got = digester.digest();
    if (got !== o.digest) throw new FailedPreconditionError(`digest mismatch: ${o.describe} has content ${got}; refusing it`);
  }
  if (held) yield held;
}

/** Opens the blob (errors such as 404 surface here) and returns the verifying stream. */
export async function openBlobStream(o: BlobStreamOptions): Promise<Readable> {
  const first = await o.open(o.offset);
  const stream = Readable.from(verifiedChunks(first, o), { objectMode: false });
  // destroyed before the first read: the generator never ran, so release the response here
  stream.once("close", () => discard(first));
  return stream;
}
