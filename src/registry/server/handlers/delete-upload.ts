import type { RequestContext } from "../context.js";
import { sendEmpty } from "../http-util.js";
import { parseName } from "../registry.js";

/** DELETE <location>: cancels an upload and frees what it held. */
export async function deleteUpload(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  await ctx.registry.cancelUpload(name, ctx.match.param);
  sendEmpty(ctx.res, 204);
}
