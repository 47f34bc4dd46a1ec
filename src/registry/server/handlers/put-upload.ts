import { urls } from "../../api/index.js";
import type { RequestContext } from "../context.js";
import { RegistryError } from "../errcode.js";
import { hasBody, sendEmpty } from "../http-util.js";
import { parseDigestParam, parseName } from "../registry.js";
import { chunkOptions } from "./upload-util.js";

/** PUT <location>?digest=<digest>: closes an upload, with an optional last chunk, and commits the blob. */
export async function putUpload(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const digestParam = ctx.url.searchParams.get("digest");
  if (digestParam === null) {
    ctx.req.resume();
    throw new RegistryError("DIGEST_INVALID", "closing an upload needs ?digest=<digest>");
  }
  const digest = parseDigestParam(digestParam);
  const body = hasBody(ctx.req) ? ctx.req : undefined;
  if (!body) ctx.req.resume();
  await ctx.registry.completeUpload(name, ctx.match.param, digest, body ? { body, opts: chunkOptions(ctx.req) } : undefined);
  sendEmpty(ctx.res, 201, { Location: urls.blob(name, digest), "Docker-Content-Digest": digest });
}
