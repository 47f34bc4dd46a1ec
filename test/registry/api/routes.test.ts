import { test } from "node:test";
import assert from "node:assert/strict";
import { matchRoute, urls } from "../../../src/registry/api/routes.js";

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
