/** Blob reads: existence checks and verified, resumable downloads. */
import type { Readable } from "node:stream";
import { InvalidArgumentError } from "../../errdefs/index.js";
import { parseDigest, type Digest, type Digester } from "../../oci/index.js";
import { urls } from "../api/index.js";
import { discard } from "./body.js";
import { openBlobStream } from "./blob-stream.js";
import { apiUrl, pullScope, repositoryName, type ClientContext } from "./client-context.js";
import { responseError } from "./errors.js";

export interface FetchBlobOptions {
  /** start after the first `offset` bytes (a resumed download); default 0 */
  offset?: number;
  /** the size from the blob's descriptor; checked as the bytes arrive */
  size?: number;
  /** a digester fed the first `offset` bytes, so the digest can still be checked */
  digester?: Digester;
  signal?: AbortSignal;
  /** false: check only the size, for a caller that verifies the digest itself (default true) */
  verify?: boolean;
}

export async function fetchBlob(ctx: ClientContext, repo: string, digest: Digest, opts: FetchBlobOptions = {}): Promise<Readable> {
  const name = repositoryName(ctx, repo);
  parseDigest(digest);
  const offset = opts.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidArgumentError(`invalid blob offset ${offset}`);
  const subject = { host: ctx.host, verb: "pull", what: `blob ${digest} in ${name}` };
  const open = async (from: number): Promise<Response> => {
    const res = await ctx.transport.request({
      method: "GET",
      url: apiUrl(ctx, urls.blob(name, digest)),
      scopes: [pullScope(name)],
      headers: from > 0 ? { Range: `bytes=${from}-` } : {},
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    if (res.status !== 200 && res.status !== 206) throw await responseError(res, subject);
    return res;
  };
  return openBlobStream({
    digest,
    offset,
    size: opts.size,
    digester: opts.digester,
    ...(opts.verify === false ? { verify: false } : {}),
    describe: `blob ${digest} in ${name} at registry ${ctx.host}`,
    clock: ctx.clock,
    retry: ctx.retry,
    open,
  });
}

/** True when the registry has the blob in this repository (HEAD 200), false on 404. */
export async function blobExists(ctx: ClientContext, repo: string, digest: Digest): Promise<boolean> {
  const name = repositoryName(ctx, repo);
  parseDigest(digest);
  const res = await ctx.transport.request({ method: "HEAD", url: apiUrl(ctx, urls.blob(name, digest)), scopes: [pullScope(name)] });
  discard(res);
  if (res.ok) return true;
  if (res.status === 404) return false;
  throw await responseError(res, { host: ctx.host, verb: "check", what: `blob ${digest} in ${name}` });
}
