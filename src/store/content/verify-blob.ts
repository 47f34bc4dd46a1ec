/**
 * Checking committed blobs against their descriptor after the commit (containerd's
 * readers re-verify in the same way): a commit verified the bytes once, but a blob's
 * file can change or shrink on disk afterwards, and whoever relies on it checks again.
 */
import { FailedPreconditionError } from "../../errdefs/index.js";
import { Digester, digestAlgorithm, type Digest } from "../../oci/index.js";
import type { BlobProvider } from "./content.js";

/** What a blob is expected to be: its digest and, when known, its size. */
export interface ExpectedBlob {
  digest: Digest;
  size?: number;
}

/** What a blob's bytes are now: their digest (with the expected algorithm) and count. */
export interface HashedBlob {
  digest: Digest;
  size: number;
}

/** True when `got` is `want`: the same digest and, when `want` names one, the same size. */
export function matchesBlob(got: HashedBlob, want: ExpectedBlob): boolean {
  return got.digest === want.digest && (want.size === undefined || got.size === want.size);
}

/** Hashes a committed blob's bytes as they are now; NotFoundError when it is absent. */
export async function hashBlob(provider: BlobProvider, d: Digest): Promise<HashedBlob> {
  const h = new Digester(digestAlgorithm(d));
  for await (const chunk of await provider.reader(d)) h.update(chunk as Buffer);
  return { digest: h.digest(), size: h.size };
}

/** Hashes bytes in hand with the algorithm of `want`. */
export function hashBytes(bytes: Uint8Array, want: ExpectedBlob): HashedBlob {
  const h = new Digester(digestAlgorithm(want.digest));
  h.update(bytes);
  return { digest: h.digest(), size: h.size };
}

/**
 * The error for a stored blob that is not what its name says, e.g.
 * `image x: blob sha256:ab… in the content store is corrupt: its 1024 bytes hash to sha256:cd…`.
 * `what` (an image, a layer) goes in front when given; `cause`, what failed on the bytes.
 */
export function corruptBlobError(want: ExpectedBlob, got: HashedBlob, opts: { what?: string; cause?: unknown } = {}): FailedPreconditionError {
  const sized = want.size !== undefined && got.size !== want.size ? `, expected ${want.size} bytes` : "";
  const what = opts.what !== undefined ? `${opts.what}: ` : "";
  return new FailedPreconditionError(
    `${what}blob ${want.digest} in the content store is corrupt: its ${got.size} bytes hash to ${got.digest}${sized}; `
      + "run `podyard fsck --repair`, then pull (or load) the image again",
    opts.cause !== undefined ? { cause: opts.cause } : undefined,
  );
}

/**
 * Passes `src` through and, at its end, fails with `onMismatch` when the bytes were not
 * `want`; a consumer that writes them somewhere must treat that failure as fatal.
 */
export async function* verifiedStream(
  src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  want: ExpectedBlob,
  onMismatch: (got: HashedBlob) => Error,
): AsyncGenerator<Buffer> {
  const h = new Digester(digestAlgorithm(want.digest));
  for await (const chunk of src) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    h.update(buf);
    yield buf;
  }
  const got = { digest: h.digest(), size: h.size };
  if (!matchesBlob(got, want)) throw onMismatch(got);
}
