import { test } from "node:test";
import assert from "node:assert/strict";
import { matchRoute, ROUTE_DESCRIPTORS, ROUTES, routeResource, urls } from "../../../src/registry/api/index.js";

test("routes match from the end, so repository names may contain slashes and route words", () => {
  const d = `sha256:${"a".repeat(64)}`;
  const cases: [string, ReturnType<typeof matchRoute>][] = [
    ["/v2/", { route: "base", name: "", param: "" }],
    ["/v2/_catalog", { route: "catalog", name: "", param: "" }],
    ["/v2/a/b/c/tags/list", { route: "tags", name: "a/b/c", param: "" }],
    ["/v2/library/ubuntu/manifests/latest", { route: "manifest", name: "library/ubuntu", param: "latest" }],
    [`/v2/x/manifests/y/manifests/${d}`, { route: "manifest", name: "x/manifests/y", param: d }],
    [`/v2/x/blobs/${d}`, { route: "blob", name: "x", param: d }],
    ["/v2/x/blobs/uploads/", { route: "blobUploadStart", name: "x", param: "" }],
    ["/v2/x/blobs/uploads/1234", { route: "blobUpload", name: "x", param: "1234" }],
    [`/v2/x/y/referrers/${d}`, { route: "referrers", name: "x/y", param: d }],
    ["/v1/x", undefined],
    ["/v2/x/unknown/thing", undefined],
  ];
  for (const [path, want] of cases) assert.deepEqual(matchRoute(path), want, path);
});

test("URLs built by the table match back to their routes", () => {
  assert.equal(matchRoute(urls.manifest("a/b", "v1"))?.route, "manifest");
  assert.equal(matchRoute(urls.blobUpload("a/b", "u"))?.param, "u");
  assert.equal(matchRoute(urls.tags("a"))?.name, "a");
});

test("one descriptor list: each route's template, pattern and URL builder agree", () => {
  const d = `sha256:${"b".repeat(64)}`;
  const build = urls as unknown as Record<string, (...a: string[]) => string>;
  for (const { route, path } of ROUTE_DESCRIPTORS) {
    assert.equal(ROUTES[route], path, route);
    const named = path.includes(":name");
    const params = (path.match(/:[a-z]+/g) ?? []).filter((p) => p !== ":name");
    const args = [...(named ? ["team/app"] : []), ...params.map(() => d)];
    const url = build[route]?.(...args) ?? "";
    assert.equal(url, path.replace(":name", "team/app").replace(/:[a-z]+/, d), `${route} URL`);
    assert.deepEqual(matchRoute(url), { route, name: named ? "team/app" : "", param: params.length > 0 ? d : "" }, `${route} matches its own URL`);
  }
  assert.equal(matchRoute("/v2")?.route, "base", "a trailing slash is optional");
  assert.equal(matchRoute("/v2/x/blobs/uploads")?.route, "blobUploadStart");
  assert.equal(matchRoute("/v2/x/blobs/uploads/a%2Fb")?.param, "a/b", "the last segment is percent-decoded");
});

test("each route names the resource its NotFound errors are about", () => {
  assert.equal(routeResource("manifest"), "manifest");
  assert.equal(routeResource("blob"), "blob");
  assert.equal(routeResource("tags"), "repository");
  assert.equal(routeResource("blobUpload"), "upload");
  assert.equal(routeResource("base"), undefined);
});
