/**
 * Blob pushes and cross-repository mounts. A buffer of up to 16 MiB goes up
 * monolithically (POST, then PUT `?digest=` with the body, as containerd does); a
 * stream goes up as one PATCH without Content-Range, hashed on the way, then a PUT
 * with an empty body (Docker, containers/image, crane). Upload Locations are reused
 * verbatim, query included. A failed upload is cancelled (DELETE) before the error
 * is thrown.
 */
import { pipeline, Readable, Transform } from "node:stream";
import { InvalidArgumentError } from "../../errdefs/index.js";
import { Digester, digestAlgorithm, digestOf, parseDigest, type Digest } from "../../oci/index.js";
import { urls } from "../api/index.js";
import { discard } from "./body.js";
import { apiUrl, locationOf, pullScope, pushScope, repositoryName, withDigestParam, type ClientContext } from "./client-context.js";
import { responseError } from "./errors.js";

export const MONOLITHIC_MAX_BYTES = 16 * 1024 * 1024;

export interface PushBlobOptions {
  /** the expected digest: checked before the upload is committed (and computed when absent) */
  digest?: Digest;
  /** the expected size */
  size?: number;
}

export interface PushedBlob {
  digest: Digest;
  size: number;
}

function hashing(digester: Digester): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      digester.update(chunk);
      cb(null, chunk);
    },
  });
}

export async function pushBlob(ctx: ClientContext, repo: string, body: Uint8Array | Readable, opts: PushBlobOptions = {}): Promise<PushedBlob> {
  const name = repositoryName(ctx, repo);
  const scopes = [pushScope(name)];
  const what = `blob ${opts.digest ?? ""}`.trimEnd() + ` to ${name}`;
  const subject = { host: ctx.host, verb: "push", what };
  if (opts.digest !== undefined) parseDigest(opts.digest);
  const check = (got: PushedBlob): void => {
    if (opts.size !== undefined && got.size !== opts.size) throw new InvalidArgumentError(`size mismatch: pushing ${what}: content has ${got.size} bytes, expected ${opts.size}`);
    if (opts.digest !== undefined && got.digest !== opts.digest) throw new InvalidArgumentError(`digest mismatch: pushing ${what}: content is ${got.digest}`);
  };

  let known: PushedBlob | undefined;
  if (!(body instanceof Readable)) {
    known = { digest: digestOf(body, opts.digest ? digestAlgorithm(opts.digest) : "sha256"), size: body.length };
    check(known);
    const head = await ctx.transport.request({ method: "HEAD", url: apiUrl(ctx, urls.blob(name, known.digest)), scopes });
    discard(head);
    if (head.ok) return known;
  }

  const startUrl = apiUrl(ctx, urls.blobUploadStart(name));
  const start = await ctx.transport.request({ method: "POST", url: startUrl, scopes});
  if (start.status !== 202) throw await responseError(start, subject);
  discard(start);
  let location = locationOf(start, startUrl, ctx.host);
  try {
    let pushed: PushedBlob;
    if (known && known.size <= MONOLITHIC_MAX_BYTES) {
      pushed = known;
    } else {
      const digester = new Digester(opts.digest ? digestAlgorithm(opts.digest) : "sha256");
      const content = body instanceof Readable ? pipeline(body, hashing(digester), () => undefined) : body;
      if (!(body instanceof Readable)) digester.update(body);
      const patch = await ctx.transport.request({
        method: "PATCH",
        url: location,
        scopes,
        headers: { "Content-Type": "application/octet-stream" },
        body: content,
      });
      if (patch.status !== 202) throw await responseError(patch, subject);
      discard(patch);
      if (patch.headers.has("location")) location = locationOf(patch, location, ctx.host);
      pushed = { digest: digester.digest(), size: digester.size };
      check(pushed);
    }
    const monolithic = pushed === known;
    const put = await ctx.transport.request({
      method: "PUT",
      url: withDigestParam(location, pushed.digest),
      scopes,
      headers: monolithic ? { "Content-Type": "application/octet-stream" } : {},
      ...(monolithic ? { body: body as Uint8Array } : {}),
    });
    if (put.status !== 201) throw await responseError(put, { ...subject, what: `blob ${pushed.digest} to ${name}` });
    discard(put);
    return pushed;
  } catch (err) {
    await cancelUpload(ctx, location, scopes);
    throw err;
  }
}

async function cancelUpload(ctx: ClientContext, location: URL, scopes: string[]): Promise<void> {
  try {
    discard(await ctx.transport.request({ method: "DELETE", url: location, scopes }));
  } catch {
    // the upload expires on the registry anyway
  }
}

/** Links a blob of repository `from` into `repo` without sending it; false when the registry would not. */
export async function mountBlob(ctx: ClientContext, repo: string, digest: Digest, from: string): Promise<boolean> {
  const name = repositoryName(ctx, repo);
  const source = repositoryName(ctx, from);
  parseDigest(digest);
  const scopes = [pushScope(name), pullScope(source)];
  const url = apiUrl(ctx, urls.blobUploadStart(name), { mount: digest, from: source });
  const res = await ctx.transport.request({ method: "POST", url, scopes});
  if (res.status === 201) {
    discard(res);
    return true;
  }
  if (res.status === 202) {
    discard(res);
    await cancelUpload(ctx, locationOf(res, url, ctx.host), scopes);
    return false;
  }
  throw await responseError(res, { host: ctx.host, verb: "mount", what: `blob ${digest} from ${source} into ${name}` });
}
