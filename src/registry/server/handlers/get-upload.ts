import type { RequestContext } from "../context.js";
import { sendEmpty } from "../http-util.js";
import { parseName } from "../registry.js";
import { uploadHeaders } from "./upload-util.js";

/** GET <location>: how much of the upload the registry holds (204 + Range). */
export async function getUpload(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const state = await ctx.registry.uploadStatus(name, ctx.match.param);
  sendEmpty(ctx.res, 204, uploadHeaders(state));
}
