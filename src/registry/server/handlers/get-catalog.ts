import { urls } from "../../api/index.js";
import type { RequestContext } from "../context.js";
import { paginate, sendJSON } from "../http-util.js";

/** GET /v2/_catalog?n=&last=: repositories, sorted, paginated with Link. */
export async function getCatalog(ctx: RequestContext): Promise<void> {
  const { items, headers } = paginate(await ctx.registry.catalog(), ctx.url, urls.catalog());
  sendJSON(ctx.res, 200, { repositories: items }, headers);
}
