import type { RequestContext } from "../context.js";
import { sendEmpty } from "../http-util.js";
import { parseDigestParam, parseName } from "../registry.js";

/**
 * DELETE /v2/<name>/blobs/<digest>: unlinks the blob from this repository. Its bytes
 * stay until garbage collection finds nothing else using them.
 */
export async function deleteBlob(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const digest = parseDigestParam(ctx.match.param);
  await ctx.registry.deleteBlob(name, digest);
  sendEmpty(ctx.res, 202);
}
