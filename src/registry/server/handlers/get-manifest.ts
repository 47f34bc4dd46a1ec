import type { RequestContext } from "../context.js";
import { RegistryError } from "../errcode.js";
import { notModified, sendNotModified } from "../http-util.js";
import { parseManifestReference, parseName, type StoredManifest } from "../registry.js";

/** GET and HEAD /v2/<name>/manifests/<reference>: the exact bytes pushed, with their type and digest. */
export async function getManifest(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const ref = parseManifestReference(ctx.match.param);
  let m: StoredManifest | undefined;
  // a tag is asked upstream first (tags move); when upstream fails the cached tag serves
  let upstreamFailure: unknown;
  if (ctx.upstream && "tag" in ref) {
    try {
      m = await ctx.upstream.manifest(name, ref);
    } catch (err) {
      upstreamFailure = err;
    }
  }
  m ??= await ctx.registry.getManifest(name, ref);
  if (!m && ctx.upstream && "digest" in ref) m = await ctx.upstream.manifest(name, ref);
  if (!m && upstreamFailure !== undefined) throw upstreamFailure;
  if (!m) {
    const what = "tag" in ref ? `tag ${ref.tag}` : `digest ${ref.digest}`;
    const known = await ctx.registry.repositoryExists(name);
    // skopeo shows "name unknown: <message>": an unknown repository is said to be one
    throw new RegistryError(known ? "MANIFEST_UNKNOWN" : "NAME_UNKNOWN", known ? `manifest ${what} unknown in repository ${name}` : `repository ${name} not known to registry`, {
      status: 404,
      detail: "tag" in ref ? { tag: ref.tag } : { digest: ref.digest },
    });
  }
  if (notModified(ctx.req, m.digest)) {
    sendNotModified(ctx.res, m.digest);
    return;
  }
  ctx.res.writeHead(200, {
    "Content-Type": m.mediaType,
    "Content-Length": m.bytes.length,
    "Docker-Content-Digest": m.digest,
    ETag: `"${m.digest}"`,
  });
  ctx.res.end(ctx.req.method === "HEAD" ? undefined : m.bytes);
}
