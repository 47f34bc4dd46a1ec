import { urls } from "../../api/index.js";
import type { RequestContext } from "../context.js";
import { paginate, sendJSON } from "../http-util.js";
import { parseName } from "../registry.js";

/** GET /v2/<name>/tags/list?n=&last=: the tags in lexical order, paginated with Link. */
export async function getTags(ctx: RequestContext): Promise<void> {
  const name = parseName(ctx.match.name);
  const tags = await ctx.registry.tags(name);
  const { items, headers } = paginate(tags, ctx.url, urls.tags(name));
  sendJSON(ctx.res, 200, { name, tags: items }, headers);
}
