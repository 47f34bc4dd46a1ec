import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buildOpenApiV3, openApiV3Document } from "../../../src/apiserver/openapi/index.js";
import { KUBECTL, kubectl as runKubectl, type KubectlRun } from "../../helpers/kubectl.js";

/** A server with just enough discovery for kubectl, and our OpenAPI documents. */
function fakeServer(): Promise<{ server: Server; url: string }> {
  const api = buildOpenApiV3();
  const json = (res: import("node:http").ServerResponse, body: unknown, code = 200): void => {
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    if (p === "/version") return json(res, { major: "1", minor: "32", gitVersion: "v1.32.4-podyard", platform: "linux/amd64" });
    if (p === "/api") return json(res, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
    if (p === "/apis") return json(res, { kind: "APIGroupList", apiVersion: "v1", groups: [
      { name: "events.k8s.io", versions: [{ groupVersion: "events.k8s.io/v1", version: "v1" }], preferredVersion: { groupVersion: "events.k8s.io/v1", version: "v1" } },
      { name: "coordination.k8s.io", versions: [{ groupVersion: "coordination.k8s.io/v1", version: "v1" }], preferredVersion: { groupVersion: "coordination.k8s.io/v1", version: "v1" } },
    ] });
    if (p === "/api/v1") return json(res, { kind: "APIResourceList", groupVersion: "v1", resources: [
      { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], shortNames: ["po"] },
      { name: "nodes", singularName: "node", namespaced: false, kind: "Node", verbs: ["get", "list"], shortNames: ["no"] },
    ] });
    if (p === "/apis/events.k8s.io/v1") return json(res, { kind: "APIResourceList", groupVersion: "events.k8s.io/v1", resources: [
      { name: "events", singularName: "event", namespaced: true, kind: "Event", verbs: ["get", "list"], shortNames: ["ev"] }] });
    if (p === "/apis/coordination.k8s.io/v1") return json(res, { kind: "APIResourceList", groupVersion: "coordination.k8s.io/v1", resources: [
      { name: "leases", singularName: "lease", namespaced: true, kind: "Lease", verbs: ["get", "list"] }] });
    if (p === "/openapi/v3") return json(res, api.index);
    const doc = api.documents.get(p.slice("/openapi/v3/".length) as never);
    if (p.startsWith("/openapi/v3/") && doc) return json(res, doc.json);
    return json(res, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404, message: "not found" }, 404);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

function kubectl(url: string, cache: string, args: string[]): Promise<KubectlRun> {
  return runKubectl({ ...process.env, KUBECACHEDIR: cache, KUBECONFIG: "/dev/null", HOME: cache }, [...args, "--server", url]);
}

test("the v1 document has a PATCH with the kind and the fieldValidation parameter for every kind", () => {
  const doc = openApiV3Document("api/v1") as { paths: Record<string, { patch?: { "x-kubernetes-group-version-kind": { kind: string }; parameters: { name: string }[] } }>; components: { schemas: Record<string, unknown> } };
  const kinds = Object.values(doc.paths).flatMap((p) => (p.patch && p.patch.parameters.some((x) => x.name === "fieldValidation") ? [p.patch["x-kubernetes-group-version-kind"].kind] : []));
  assert.deepEqual(kinds.sort(), ["ConfigMap", "Event", "Namespace", "Node", "Pod", "Secret", "ServiceAccount"]);
  for (const name of ["io.k8s.api.core.v1.Pod", "io.k8s.api.core.v1.PodSpec", "io.k8s.api.core.v1.Container", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.Time"]) {
    assert.ok(doc.components.schemas[name], name);
  }
  const lease = openApiV3Document("apis/coordination.k8s.io/v1") as { paths: Record<string, unknown> };
  assert.ok(lease.paths["/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}"]);
});

test("the real kubectl explains pod.spec and pod.spec.containers.image from our documents", { skip: existsSync(KUBECTL) ? false : `${KUBECTL} is absent` }, async (t) => {
  const { server, url } = await fakeServer();
  const cache = mkdtempSync(join(tmpdir(), "podyard-explain-"));
  t.after(() => { server.close(); rmSync(cache, { recursive: true, force: true }); });
  const spec = await kubectl(url, cache, ["explain", "pod.spec"]);
  assert.equal(spec.code, 0, spec.stderr);
  assert.match(spec.stdout, /KIND:\s+Pod/);
  assert.match(spec.stdout, /containers\s+<\[\]Container> -required-/);
  assert.match(spec.stdout, /restartPolicy\s+<string>/);
  const image = await kubectl(url, cache, ["explain", "pod.spec.containers.image"]);
  assert.equal(image.code, 0, image.stderr);
  assert.match(image.stdout, /FIELD:\s+image <string>/);
  assert.match(image.stdout, /The image reference to run\./);
  const lease = await kubectl(url, cache, ["explain", "leases.spec"]);
  assert.equal(lease.code, 0, lease.stderr);
  assert.match(lease.stdout, /holderIdentity\s+<string>/);
});
