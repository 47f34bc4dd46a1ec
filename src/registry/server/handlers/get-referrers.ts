import { MediaType } from "../../../oci/index.js";
import type { RequestContext } from "../context.js";
import { sendJSON } from "../http-util.js";
import { parseDigestParam, parseName } from "../registry.js";

/** GET /v2/<name>/referrers/<digest>[?artifactType=]: an index of the manifests whose subject is <digest>. */
export async function getReferrers(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const subject = parseDigestParam(ctx.match.param);
  const artifactType = ctx.url.searchParams.get("artifactType") ?? undefined;
  const manifests = await ctx.registry.referrers(name, subject, artifactType);
  const headers: Record<string, string> = { "Content-Type": MediaType.ociIndex };
  if (artifactType !== undefined) headers["OCI-Filters-Applied"] = "artifactType";
  sendJSON(ctx.res, 200, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests }, headers);
}
