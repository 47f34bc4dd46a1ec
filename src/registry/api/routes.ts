/**
 * The Distribution API's route table, shared by the server (to dispatch) and the
 * client (to build URLs), as distribution's api/v2/routes.go and urls.go.
 * Repository names contain slashes, so routes are matched from the end of the path.
 */

export const ROUTES = {
  base: "/v2/",
  catalog: "/v2/_catalog",
  tags: "/v2/:name/tags/list",
  manifest: "/v2/:name/manifests/:reference",
  blob: "/v2/:name/blobs/:digest",
  blobUploadStart: "/v2/:name/blobs/uploads/",
  blobUpload: "/v2/:name/blobs/uploads/:uuid",
  referrers: "/v2/:name/referrers/:digest",
} as const;

export type RouteName = keyof typeof ROUTES;

export interface RouteMatch {
  route: RouteName;
  name: string;
  /** the last path segment: manifest reference, blob digest, upload uuid or referrers subject */
  param: string;
}

const PATTERNS: readonly [RouteName, RegExp][] = [
  ["tags", /^\/v2\/(.+)\/tags\/list$/],
  ["manifest", /^\/v2\/(.+)\/manifests\/([^/]+)$/],
  ["blobUploadStart", /^\/v2\/(.+)\/blobs\/uploads\/?$/],
  ["blobUpload", /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/],
  ["blob", /^\/v2\/(.+)\/blobs\/([^/]+)$/],
  ["referrers", /^\/v2\/(.+)\/referrers\/([^/]+)$/],
];

/** Matches a request path (without query) to a route; undefined when none fits. */
export function matchRoute(pathname: string): RouteMatch | undefined {
  if (pathname === "/v2/" || pathname === "/v2") return { route: "base", name: "", param: "" };
  if (pathname === "/v2/_catalog") return { route: "catalog", name: "", param: "" };
  for (const [route, re] of PATTERNS) {
    const m = re.exec(pathname);
    if (m) return { route, name: m[1] ?? "", param: safeDecode(m[2] ?? "") };
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

/** URL paths for each route, for clients and for Location headers. */
export const urls = {
  base: (): string => "/v2/",
  catalog: (): string => "/v2/_catalog",
  tags: (name: string): string => `/v2/${name}/tags/list`,
  manifest: (name: string, reference: string): string => `/v2/${name}/manifests/${reference}`,
  blob: (name: string, digest: string): string => `/v2/${name}/blobs/${digest}`,
  blobUploadStart: (name: string): string => `/v2/${name}/blobs/uploads/`,
  blobUpload: (name: string, uuid: string): string => `/v2/${name}/blobs/uploads/${uuid}`,
  referrers: (name: string, digest: string): string => `/v2/${name}/referrers/${digest}`,
};
