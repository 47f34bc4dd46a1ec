/**
 * Manifest reads and writes. A resolve HEADs the manifest with the full Accept list
 * and takes `Docker-Content-Digest` (HEAD is not counted by Docker Hub's rate limit);
 * it GETs when HEAD fails or lacks the header. A GET is capped at 4 MiB and verified
 * against the digest asked for, or the one the server claims.
 */
import { FailedPreconditionError, InvalidArgumentError, ResourceExhaustedError } from "../../errdefs/index.js";
import {
  digestAlgorithm,
  digestOf,
  isDigest,
  MANIFEST_ACCEPT,
  parseManifest,
  type Descriptor,
  type Digest,
} from "../../oci/index.js";
import { urls } from "../api/index.js";
import { discard, readLimited } from "./body.js";
import { apiUrl, displayRef, manifestRef, pullScope, pushScope, repositoryName, type ClientContext } from "./client-context.js";
import { responseError } from "./errors.js";

/** containerd, containers/image and distribution all cap manifests at 4 MiB. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

function contentType(res: Response): string | undefined {
  return res.headers.get("content-type")?.split(";")[0]?.trim() || undefined;
}

function serverDigest(res: Response): Digest | undefined {
  const d = res.headers.get("docker-content-digest")?.trim();
  return d !== undefined && isDigest(d) ? d : undefined;
}

export async function fetchManifest(ctx: ClientContext, repo: string, ref: string): Promise<FetchedManifest> {
  const name = repositoryName(ctx, repo);
  const parsedRef = manifestRef(ref);
  const shown = displayRef(name, ref);
  const res = await ctx.transport.request({
    method: "GET",
    url: apiUrl(ctx, urls.manifest(name, ref)),
    scopes: [pullScope(name)],
    headers: { Accept: MANIFEST_ACCEPT },
  });
  if (!res.ok) throw await responseError(res, { host: ctx.host, verb: "pull", what: `manifest for ${shown}` });
  const bytes = await readLimited(res, MAX_MANIFEST_BYTES, () =>
    new ResourceExhaustedError(`manifest too large: registry ${ctx.host} sent more than ${MAX_MANIFEST_BYTES} bytes for ${shown}`));
  const expected = "digest" in parsedRef ? parsedRef.digest : serverDigest(res);
  const digest = digestOf(bytes, expected ? digestAlgorithm(expected) : "sha256");
  if (expected !== undefined && digest !== expected) {
    throw new FailedPreconditionError(`digest mismatch: registry ${ctx.host} sent manifest ${digest} for ${shown}, expected ${expected}; refusing it`);
  }
  let mediaType: string;
  try {
    mediaType = parseManifest(bytes, contentType(res)).mediaType;
  } catch (err) {
    throw new FailedPreconditionError(`manifest invalid: registry ${ctx.host} sent an invalid manifest for ${shown}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { digest, mediaType, bytes };
}

export async function resolveManifest(ctx: ClientContext, repo: string, ref: string): Promise<Descriptor> {
  const name = repositoryName(ctx, repo);
  const parsedRef = manifestRef(ref);
  const res = await ctx.transport.request({
    method: "HEAD",
    url: apiUrl(ctx, urls.manifest(name, ref)),
    scopes: [pullScope(name)],
    headers: { Accept: MANIFEST_ACCEPT },
  });
  discard(res);
  const digest = serverDigest(res);
  const mediaType = contentType(res);
  const size = Number(res.headers.get("content-length") ?? Number.NaN);
  const trusted = digest !== undefined && (!("digest" in parsedRef) || parsedRef.digest === digest);
  if (res.status === 200 && trusted && mediaType !== undefined && Number.isSafeInteger(size)) {
    return { mediaType, digest, size };
  }
  // 405 (HEAD unsupported), no digest, or an error whose body HEAD cannot carry: ask with GET.
  const m = await fetchManifest(ctx, repo, ref);
  return { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
}

/** PUTs manifest bytes under a tag or digest; returns their digest. */
export async function pushManifest(ctx: ClientContext, repo: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<Digest> {
  const name = repositoryName(ctx, repo);
  const parsedRef = manifestRef(ref);
  const digest = digestOf(bytes, "digest" in parsedRef ? digestAlgorithm(parsedRef.digest) : "sha256");
  if ("digest" in parsedRef && parsedRef.digest !== digest) {
    throw new InvalidArgumentError(`manifest digest ${digest} does not match reference ${displayRef(name, ref)}`);
  }
  const res = await ctx.transport.request({
    method: "PUT",
    url: apiUrl(ctx, urls.manifest(name, ref)),
    scopes: [pushScope(name)],
    headers: { "Content-Type": mediaType },
    body: bytes,
  });
  if (!res.ok) throw await responseError(res, { host: ctx.host, verb: "push", what: `manifest ${displayRef(name, ref)}` });
  discard(res);
  const echoed = serverDigest(res);
  if (echoed !== undefined && echoed !== digest) {
    throw new FailedPreconditionError(`digest mismatch: registry ${ctx.host} stored manifest ${displayRef(name, ref)} as ${echoed}, expected ${digest}`);
  }
  return digest;
}
