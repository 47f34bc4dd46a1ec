import { urls } from "../../api/index.js";
import type { RequestContext } from "../context.js";
import { readBody, sendEmpty } from "../http-util.js";
import { parseManifestReference, parseName } from "../registry.js";

/** PUT /v2/<name>/manifests/<reference>[?tag=...]: stores a manifest after checking what it references. */
export async function putManifest(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const ref = parseManifestReference(ctx.match.param);
  const bytes = await readBody(ctx.req, ctx.registry.maxManifestBytes);
  const extraTags = "digest" in ref ? ctx.url.searchParams.getAll("tag") : [];
  const result = await ctx.registry.putManifest(name, ref, { bytes, contentType: ctx.req.headers["content-type"], extraTags });
  const headers: Record<string, string> = {
    Location: urls.manifest(name, result.digest),
    "Docker-Content-Digest": result.digest,
  };
  if (result.subject) headers["OCI-Subject"] = result.subject;
  if (extraTags.length > 0) ctx.res.setHeader("OCI-Tag", result.tags);
  sendEmpty(ctx.res, 201, headers);
}
