import { pipeline } from "node:stream/promises";
import type { RequestContext } from "../context.js";
import { RegistryError } from "../errcode.js";
import { notModified, parseRange, sendNotModified } from "../http-util.js";
import { parseDigestParam, parseName } from "../registry.js";

/** GET and HEAD /v2/<name>/blobs/<digest>, with single byte ranges (206) and 416 past the end. */
export async function getBlob(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const digest = parseDigestParam(ctx.match.param);
  const { registry } = ctx;
  let info = await registry.statBlob(name, digest);
  if (!info && ctx.upstream && (await ctx.upstream.blob(name, digest))) info = await registry.statBlob(name, digest);
  if (!info) throw new RegistryError("BLOB_UNKNOWN", `blob ${digest} unknown in repository ${name}`, { detail: { digest } });

  const headers: Record<string, string | number> = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    "Accept-Ranges": "bytes",
    ETag: `"${digest}"`,
    "Cache-Control": "max-age=31536000",
  };
  if (notModified(ctx.req, digest)) {
    sendNotModified(ctx.res, digest, { "Cache-Control": headers["Cache-Control"] as string });
    return;
  }
  const range = parseRange(ctx.req.headers.range, info.size);
  if (range === "unsatisfiable") {
    throw new RegistryError("RANGE_INVALID", `range ${ctx.req.headers.range ?? ""} is outside blob ${digest} of ${info.size} bytes`, {
      headers: { "Content-Range": `bytes */${info.size}` },
    });
  }
  if (range) {
    headers["Content-Range"] = `bytes ${range.start}-${range.end}/${info.size}`;
    headers["Content-Length"] = range.end - range.start + 1;
  } else {
    headers["Content-Length"] = info.size;
  }
  const status = range ? 206 : 200;
  if (ctx.req.method === "HEAD" || info.size === 0) {
    if (info.size === 0) headers["Content-Length"] = 0;
    ctx.res.writeHead(status, headers);
    ctx.res.end();
    return;
  }
  const stream = registry.readBlob(digest, range);
  await new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
  ctx.res.writeHead(status, headers);
  await pipeline(stream, ctx.res);
}
