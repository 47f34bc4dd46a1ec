import type { RequestContext } from "../context.js";
import { sendEmpty } from "../http-util.js";
import { parseName } from "../registry.js";
import { chunkOptions, uploadHeaders } from "./upload-util.js";

/**
 * PATCH <location>: appends a chunk. With `Content-Range` it must start where the upload
 * ends (else 416, and the upload stays as it was); without, the whole body is appended,
 * the way docker, skopeo and crane stream a blob.
 */
export async function patchUpload(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const state = await ctx.registry.appendUpload(name, ctx.match.param, ctx.req, chunkOptions(ctx.req));
  sendEmpty(ctx.res, 202, uploadHeaders(state));
}
