/** Reading a whole blob into memory (containerd's `content.ReadBlob`), for manifests and configs. */
import { ResourceExhaustedError } from "../../errdefs/index.js";
import type { Digest } from "../../oci/index.js";
import type { BlobProvider } from "./content.js";

export interface ReadBlobOptions {
  /** Refuse blobs larger than this many bytes (ResourceExhaustedError). */
  maxSize?: number;
}

/** The bytes of a committed blob; NotFoundError when it is absent. */
export async function readBlob(provider: BlobProvider, d: Digest, opts: ReadBlobOptions = {}): Promise<Buffer> {
  const stream = await provider.reader(d);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (opts.maxSize !== undefined && size > opts.maxSize) {
      stream.destroy();
      throw new ResourceExhaustedError(`content ${d}: larger than the ${opts.maxSize} bytes allowed`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, size);
}
