import { urls } from "../../api/index.js";
import { isDigestAlgorithm } from "../../../oci/index.js";
import type { RequestContext } from "../context.js";
import { RegistryError } from "../errcode.js";
import { hasBody, sendEmpty } from "../http-util.js";
import { parseDigestParam, parseName } from "../registry.js";
import { chunkOptions, uploadHeaders } from "./upload-util.js";

/**
 * POST /v2/<name>/blobs/uploads/: starts an upload (202), or
 * - with ?mount=<digest>&from=<repo>, links an existing blob (201) when it can;
 * - with ?digest=<digest> and a body, stores the whole blob at once (201).
 */
export async function postUpload(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const q = ctx.url.searchParams;
  const mount = q.get("mount");
  if (mount !== null) {
    const digest = parseDigestParam(mount, "mount");
    const fromParam = q.get("from");
    const from = fromParam === null ? undefined : parseName(fromParam);
    let mounted = false;
    if (from !== undefined) {
      await ctx.authorize([{ type: "repository", name: from, actions: ["pull"] }]);
      mounted = await ctx.registry.mountBlob(name, digest, from);
    } else if (ctx.settings.anonymousMount) {
      mounted = await ctx.registry.mountBlob(name, digest, undefined);
    }
    if (mounted) {
      ctx.req.resume();
      sendEmpty(ctx.res, 201, { Location: urls.blob(name, digest), "Docker-Content-Digest": digest });
      return;
    }
  }
  const alg = q.get("digest-algorithm");
  if (alg !== null && !isDigestAlgorithm(alg)) {
    throw new RegistryError("DIGEST_INVALID", `unsupported digest algorithm ${JSON.stringify(alg)}`, { detail: { algorithm: alg } });
  }
  const digestParam = q.get("digest");
  const digest = digestParam === null ? undefined : parseDigestParam(digestParam);
  const upload = await ctx.registry.startUpload(name);
  if (digest !== undefined) {
    const opts = chunkOptions(ctx.req);
    try {
      await ctx.registry.completeUpload(name, upload.uuid, digest, { body: ctx.req, opts });
    } catch (err) {
      await ctx.registry.cancelUpload(name, upload.uuid).catch(() => undefined);
      throw err;
    }
    sendEmpty(ctx.res, 201, { Location: urls.blob(name, digest), "Docker-Content-Digest": digest });
    return;
  }
  if (hasBody(ctx.req)) {
    const state = await ctx.registry.appendUpload(name, upload.uuid, ctx.req, chunkOptions(ctx.req));
    sendEmpty(ctx.res, 202, uploadHeaders(state));
    return;
  }
  ctx.req.resume();
  sendEmpty(ctx.res, 202, uploadHeaders(upload));
}
