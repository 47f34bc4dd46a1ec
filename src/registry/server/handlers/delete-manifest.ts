import type { RequestContext } from "../context.js";
import { sendEmpty } from "../http-util.js";
import { parseManifestReference, parseName } from "../registry.js";

/** DELETE /v2/<name>/manifests/<reference>: a digest deletes the manifest and its tags, a tag only the tag. */
export async function deleteManifest(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const ref = parseManifestReference(ctx.match.param);
  await ctx.registry.deleteManifest(name, ref);
  sendEmpty(ctx.res, 202);
}
