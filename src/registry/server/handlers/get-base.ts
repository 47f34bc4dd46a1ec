import type { RequestContext } from "../context.js";
import { sendJSON } from "../http-util.js";

/** GET /v2/: the API version check clients ping first. */
export async function getBase(ctx: RequestContext): Promise<void> {
  sendJSON(ctx.res, 200, {});
}
