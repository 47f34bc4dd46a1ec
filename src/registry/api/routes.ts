/**
 * The Distribution API's route table, one descriptor per route, from which the server's
 * path patterns and the client's URLs are both built (distribution's api/v2/routes.go
 * and urls.go). Repository names contain slashes, so `:name` takes everything up to the
 * route's fixed tail, and routes are tried in the order listed. A path ending in "/"
 * matches with or without that slash.
 */
import type { OciResource } from "./errcode.js";

interface RouteDescriptor {
  readonly route: string;
  /** the path template: `:name` is the repository, any other `:param` one segment */
  readonly path: string;
  /** what a NotFound on this route is about (BLOB_UNKNOWN, MANIFEST_UNKNOWN, ...) */
  readonly resource?: OciResource;
}

export const ROUTE_DESCRIPTORS = [
  { route: "base", path: "/v2/" },
  { route: "catalog", path: "/v2/_catalog", resource: "repository" },
  { route: "tags", path: "/v2/:name/tags/list", resource: "repository" },
  { route: "manifest", path: "/v2/:name/manifests/:reference", resource: "manifest" },
  { route: "blobUploadStart", path: "/v2/:name/blobs/uploads/", resource: "upload" },
  { route: "blobUpload", path: "/v2/:name/blobs/uploads/:uuid", resource: "upload" },
  { route: "blob", path: "/v2/:name/blobs/:digest", resource: "blob" },
  { route: "referrers", path: "/v2/:name/referrers/:digest", resource: "manifest" },
] as const satisfies readonly RouteDescriptor[];

type Descriptor = (typeof ROUTE_DESCRIPTORS)[number];
export type RouteName = Descriptor["route"];

/** Each route's path template, by name. */
export const ROUTES = Object.freeze(Object.fromEntries(ROUTE_DESCRIPTORS.map((d) => [d.route, d.path]))) as {
  readonly [R in RouteName]: Extract<Descriptor, { route: R }>["path"];
};

export interface RouteMatch {
  route: RouteName;
  name: string;
  /** the last path segment: manifest reference, blob digest, upload uuid or referrers subject */
  param: string;
}

/** What a NotFound on `route` is about. */
export function routeResource(route: RouteName): OciResource | undefined {
  const d: RouteDescriptor | undefined = ROUTE_DESCRIPTORS.find((r) => r.route === route);
  return d?.resource;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The pattern a template matches: `:name` greedy across slashes, other params one segment. */
function patternOf(path: string): RegExp {
  const body = path.replace(/\/$/, "").split(/(:[a-z]+)/).map((part) => {
    if (part === ":name") return "(.+)";
    if (part.startsWith(":")) return "([^/]+)";
    return escapeRegExp(part);
  }).join("");
  return new RegExp(`^${body}${path.endsWith("/") ? "/?" : ""}$`);
}

const PATTERNS: readonly { route: RouteName; re: RegExp; named: boolean }[] = ROUTE_DESCRIPTORS.map((d) => ({
  route: d.route,
  re: patternOf(d.path),
  named: d.path.includes(":name"),
}));

/** Matches a request path (without query) to a route; undefined when none fits. */
export function matchRoute(pathname: string): RouteMatch | undefined {
  for (const { route, re, named } of PATTERNS) {
    const m = re.exec(pathname);
    if (!m) continue;
    const groups = m.slice(1);
    const name = named ? groups.shift() ?? "" : "";
    return { route, name, param: safeDecode(groups[0] ?? "") };
  }
  return undefined;
}

/** Percent-decodes a path segment; a malformed escape is left as it is (and fails validation later). */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** One string argument per parameter of a template: "/v2/:name/blobs/:digest" → [name, digest]. */
type PathArgs<P extends string> = P extends `${string}:${string}/${infer Rest}` ? [string, ...PathArgs<Rest>]
  : P extends `${string}:${string}` ? [string] : [];

/** Fills a template's parameters in order. */
function fill(path: string, args: readonly string[]): string {
  let i = 0;
  return path.replace(/:[a-z]+/g, () => args[i++] ?? "");
}

/** URL paths for each route, for clients and for Location headers: `urls.blob(name, digest)`. */
export const urls = Object.freeze(Object.fromEntries(
  ROUTE_DESCRIPTORS.map((d) => [d.route, (...args: string[]): string => fill(d.path, args)]),
)) as unknown as { readonly [R in RouteName]: (...args: PathArgs<(typeof ROUTES)[R]>) => string };
