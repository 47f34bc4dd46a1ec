/**
 * The real kubectl against a small in-memory server made of this slice's modules: apply
 * (client-side, then again with a change, then server-side with a conflict), get (Tables),
 * explain, and --validate=strict with an unknown field.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parse as parseYaml } from "yaml";
import type { KubeObject, Pod } from "../../../src/api/index.js";
import { prepareForCreate, setDefaultsObject } from "../../../src/api/index.js";
import { ApplyConflictError, serverSideApply, updateManagedFields } from "../../../src/apiserver/fieldmanager/index.js";
import { buildOpenApiV3 } from "../../../src/apiserver/openapi/index.js";
import { jsonMergePatch, PatchError, strategicMergePatch } from "../../../src/apiserver/patch/index.js";
import { toTable } from "../../../src/apiserver/printers/index.js";
import { invalidStatus, strictDecodingError, unknownFields, validateObject } from "../../../src/apiserver/validation/index.js";
import { KUBECTL, kubectl as runKubectl, type KubectlRun } from "../../helpers/kubectl.js";

const NOW = "2026-12-03T12:00:00Z";

function fakeServer(): Promise<{ server: Server; url: string; pods: Map<string, Pod> }> {
  const api = buildOpenApiV3();
  const pods = new Map<string, Pod>();
  let rv = 100;
  const send = (res: ServerResponse, code: number, body: unknown): void => {
    res.writeHead(code, { "Content-Type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };
  const status = (res: ServerResponse, code: number, reason: string, message: string, extra: object = {}): void =>
    send(res, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code, ...extra });
  const read = (req: IncomingMessage): Promise<string> => new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c)).on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
  const store = (res: ServerResponse, q: URLSearchParams, old: Pod | undefined, next: Pod, manager: string, code: number): void => {
    const unknown = unknownFields("pods", next);
    if (q.get("fieldValidation") === "Strict" && unknown.length > 0) return status(res, 400, "BadRequest", strictDecodingError(unknown));
    next.apiVersion = "v1";
    next.kind = "Pod";
    next.metadata = { ...next.metadata, namespace: "default" };
    if (!old) { next.metadata.uid = "uid-1"; next.metadata.creationTimestamp = NOW; prepareForCreate("pods", next); }
    setDefaultsObject("pods", next);
    const errs = validateObject("pods", next, old);
    if (errs.length > 0) return send(res, 422, invalidStatus("Pod", next.metadata.name ?? "", errs));
    updateManagedFields(old, next, manager, "Update", undefined, NOW);
    next.metadata.resourceVersion = String(++rv);
    pods.set(next.metadata.name ?? "", next);
    send(res, code, next);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://x");
      const p = url.pathname;
      const q = url.searchParams;
      if (p === "/version") return send(res, 200, { major: "1", minor: "32", gitVersion: "v1.32.4-podyard", platform: "linux/amd64" });
      if (p === "/api") return send(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
      if (p === "/apis") return send(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
      if (p === "/api/v1") return send(res, 200, { kind: "APIResourceList", groupVersion: "v1", resources: [
        { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], shortNames: ["po"] }] });
      if (p === "/openapi/v3") return send(res, 200, api.index);
      if (p.startsWith("/openapi/v3/")) {
        const doc = api.documents.get(p.slice("/openapi/v3/".length) as never);
        return doc ? send(res, 200, doc.json) : status(res, 404, "NotFound", "not found");
      }
      const m = /^\/api\/v1\/namespaces\/default\/pods(?:\/([^/]+))?$/.exec(p);
      if (!m) return status(res, 404, "NotFound", "the server could not find the requested resource");
      const name = m[1];
      const body = req.method === "GET" ? "" : await read(req);
      if (req.method === "GET" && !name) {
        const list = [...pods.values()];
        if (String(req.headers.accept).includes("as=Table")) return send(res, 200, toTable("pods", list, { now: Date.parse(NOW) + 5000, resourceVersion: String(rv) }));
        return send(res, 200, { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: String(rv) }, items: list });
      }
      const cur = name ? pods.get(name) : undefined;
      if (req.method === "GET") return cur ? send(res, 200, cur) : status(res, 404, "NotFound", `pods "${name}" not found`, { details: { name, kind: "pods" } });
      if (req.method === "POST") {
        const obj = JSON.parse(body) as Pod;
        if (pods.has(obj.metadata.name ?? "")) return status(res, 409, "AlreadyExists", `pods "${obj.metadata.name}" already exists`);
        return store(res, q, undefined, obj, q.get("fieldManager") ?? "unknown", 201);
      }
      if (req.method === "PATCH" && name) {
        const type = String(req.headers["content-type"]);
        try {
          if (type.startsWith("application/apply-patch+yaml")) {
            const applied = serverSideApply(cur, parseYaml(body) as KubeObject, { manager: q.get("fieldManager") ?? "", force: q.get("force") === "true", now: NOW, kind: "Pod" }) as Pod;
            return store(res, q, cur, applied, q.get("fieldManager") ?? "", cur ? 200 : 201);
          }
          if (!cur) return status(res, 404, "NotFound", `pods "${name}" not found`);
          const patch = JSON.parse(body) as unknown;
          const next = (type.startsWith("application/strategic-merge-patch+json") ? strategicMergePatch(cur, patch, "Pod") : jsonMergePatch(cur, patch)) as Pod;
          return store(res, q, cur, next, q.get("fieldManager") ?? "", 200);
        } catch (e) {
          if (e instanceof ApplyConflictError) return send(res, 409, e.status);
          if (e instanceof PatchError) return status(res, e.status, e.status === 400 ? "BadRequest" : "Invalid", e.message);
          throw e;
        }
      }
      return status(res, 405, "MethodNotAllowed", "no");
    })().catch((e: unknown) => status(res, 500, "InternalError", String(e)));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, pods })));
}

function kubectl(url: string, home: string, args: string[]): Promise<KubectlRun> {
  return runKubectl({ ...process.env, KUBECACHEDIR: join(home, "cache"), KUBECONFIG: "/dev/null", HOME: home }, [...args, "--server", url]);
}

const POD = (image: string, extra = ""): string => `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: nginx
    image: ${image}
    ports:
    - containerPort: 80${extra}
  - name: sidecar
    image: busybox:1.36
    command: ["sh", "-c", "sleep 3600"]
`;

test("the real kubectl applies, re-applies, server-side applies and lists through these modules", { skip: existsSync(KUBECTL) ? false : `${KUBECTL} is absent` }, async (t) => {
  const { server, url, pods } = await fakeServer();
  const home = mkdtempSync(join(tmpdir(), "podyard-apply-"));
  t.after(() => { server.close(); rmSync(home, { recursive: true, force: true }); });
  const file = join(home, "pod.yaml");

  writeFileSync(file, POD("nginx:1.27"));
  let r = await kubectl(url, home, ["apply", "-f", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "pod/web created");
  assert.equal(pods.get("web")?.spec.containers[0]?.ports?.[0]?.protocol, "TCP");
  assert.equal(pods.get("web")?.metadata.managedFields?.[0]?.manager, "kubectl-client-side-apply");

  writeFileSync(file, POD("nginx:1.28"));
  r = await kubectl(url, home, ["apply", "-f", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), "pod/web configured");
  const web = pods.get("web");
  assert.deepEqual(web?.spec.containers.map((c) => `${c.name}=${c.image}`), ["nginx=nginx:1.28", "sidecar=busybox:1.36"]);
  assert.ok(!JSON.stringify(web).includes("$setElementOrder"));

  r = await kubectl(url, home, ["apply", "-f", file]);
  assert.equal(r.stdout.trim(), "pod/web unchanged");

  writeFileSync(file, POD("nginx:1.28", "\n      name: http\n      bogus: 1"));
  r = await kubectl(url, home, ["apply", "-f", file]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /strict decoding error: unknown field "spec\.containers\[0\]\.ports\[0\]\.bogus"/);

  writeFileSync(file, POD("nginx:1.29"));
  r = await kubectl(url, home, ["apply", "--server-side", "-f", file]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: \.spec\.containers\[name="nginx"\]\.image/);
  r = await kubectl(url, home, ["apply", "--server-side", "--force-conflicts", "-f", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(pods.get("web")?.spec.containers[0]?.image, "nginx:1.29");

  writeFileSync(file, POD("nginx:1.29").replace("containerPort: 80", "containerPort: 80\n    imagePullPolicy: Sometimes"));
  r = await kubectl(url, home, ["apply", "--server-side", "--force-conflicts", "-f", file]);
  assert.notEqual(r.code, 0);
  // kubectl prints the causes one per line.
  assert.match(r.stderr, /The Pod "web" is invalid: \n\* spec\.containers\[0\]\.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"\n\* spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`/);

  r = await kubectl(url, home, ["get", "pods"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n").map((l) => l.split(/\s+/)), [["NAME", "READY", "STATUS", "RESTARTS", "AGE"], ["web", "0/2", "Pending", "0", "5s"]]);
  r = await kubectl(url, home, ["get", "pods", "-o", "wide"]);
  assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES\n/);
});
