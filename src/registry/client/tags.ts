/** Tag listing, following `Link: <…>; rel="next"` pagination. */
import { UnavailableError } from "../../errdefs/index.js";
import { urls } from "../api/index.js";
import { readLimited } from "./body.js";
import { apiUrl, pullScope, repositoryName, type ClientContext } from "./client-context.js";
import { responseError } from "./errors.js";

const MAX_PAGE_BYTES = 16 * 1024 * 1024;
const MAX_PAGES = 10_000;

/** The `rel="next"` target of a Link header, if any. */
export function nextLink(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m && /;\s*rel="?next"?(\s|;|$)/i.test(m[2] ?? "")) return m[1];
  }
  return undefined;
}

export async function listTags(ctx: ClientContext, repo: string, opts: { pageSize?: number } = {}): Promise<string[]> {
  const name = repositoryName(ctx, repo);
  const subject = { host: ctx.host, verb: "list tags of", what: `repository ${name}` };
  let url: URL | undefined = apiUrl(ctx, urls.tags(name), opts.pageSize !== undefined ? { n: String(opts.pageSize) } : {});
  const tags: string[] = [];
  const seen = new Set<string>();
  for (let page = 0; url !== undefined; page++) {
    if (page >= MAX_PAGES || seen.has(url.href)) throw new UnavailableError(`registry ${ctx.host}: tag list of ${name} does not end (page ${page})`);
    seen.add(url.href);
    const res = await ctx.transport.request({ method: "GET", url, scopes: [pullScope(name)] });
    if (!res.ok) throw await responseError(res, subject);
    const text = (await readLimited(res, MAX_PAGE_BYTES)).toString("utf8");
    let body: { tags?: unknown } | null;
    try {
      body = JSON.parse(text) as { tags?: unknown } | null;
    } catch {
      throw new UnavailableError(`registry ${ctx.host} sent a tag list of ${name} that is not JSON`);
    }
    const listed = body?.tags;
    if (Array.isArray(listed)) for (const t of listed as unknown[]) if (typeof t === "string") tags.push(t);
    const next = nextLink(res.headers.get("link"));
    url = next === undefined ? undefined : new URL(next, url);
    if (url !== undefined && url.origin !== ctx.baseUrl.origin) throw new UnavailableError(`registry ${ctx.host}: tag list of ${name} links to another host ${url.host}`);
  }
  return tags;
}
