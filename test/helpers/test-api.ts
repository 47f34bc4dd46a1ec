/** A test API server: just the discovery kubectl reads, GET of the pods it is given, and the pod subresources through src/apiserver/proxy. */
import type { TestContext } from "node:test";
import { createServer } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Node, Pod } from "../../src/api/index.js";
import { type KubeletConnectionInfo, proxyPodLogs, proxyPodUpgrade } from "../../src/apiserver/proxy/index.js";

export interface TestApi {
  url: string;
  kubeconfig: string;
  /** A private home and KUBECACHEDIR for kubectl. */
  env: NodeJS.ProcessEnv;
}

function json(res: import("node:http").ServerResponse, code: number, v: object): void {
  const body = JSON.stringify(v);
  res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
}

const POD_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)(?:\/(log|exec|attach|portforward))?$/;

/** The Node object of a kubelet listening on 127.0.0.1:`port`: what the proxy dials. */
export function kubeletNode(port: number): Node {
  return { apiVersion: "v1", kind: "Node", metadata: { name: "node1" }, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } };
}

/** How the API server's proxy reaches a kubelet: the client certificate the kubelet trusts and the CA it serves with. */
export function kubeletConnection(pki: { clientCert: Buffer; clientKey: Buffer; ca: Buffer }): KubeletConnectionInfo {
  return { clientCert: pki.clientCert, clientKey: pki.clientKey, ca: pki.ca };
}

export async function startTestApi(t: TestContext, opts: { pods: Pod[]; node?: Node; kubelet: KubeletConnectionInfo }): Promise<TestApi> {
  const find = (ns: string, name: string): Pod | undefined => opts.pods.find((p) => p.metadata.namespace === ns && p.metadata.name === name);
  const notFound = (name: string): object => ({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `pods "${name}" not found`, reason: "NotFound", details: { name, kind: "pods" }, code: 404 });
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const p = url.pathname;
    if (p === "/version") return json(res, 200, { major: "1", minor: "32", gitVersion: "v1.32.4", platform: "linux/amd64" });
    if (p === "/api") return json(res, 200, { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }] });
    if (p === "/apis") return json(res, 200, { kind: "APIGroupList", apiVersion: "v1", groups: [] });
    if (p === "/api/v1") {
      return json(res, 200, { kind: "APIResourceList", groupVersion: "v1", resources: [
        { name: "pods", singularName: "pod", namespaced: true, kind: "Pod", verbs: ["get", "list"], shortNames: ["po"] },
        { name: "pods/log", singularName: "", namespaced: true, kind: "Pod", verbs: ["get"] },
        { name: "pods/exec", singularName: "", namespaced: true, kind: "PodExecOptions", verbs: ["create", "get"] },
      ] });
    }
    const m = POD_PATH.exec(p);
    if (m) {
      const pod = find(m[1] ?? "", m[2] ?? "");
      if (!pod) return json(res, 404, notFound(m[2] ?? ""));
      if (m[3] === "log") return void proxyPodLogs(req, res, { pod, ...(opts.node ? { node: opts.node } : {}), query: url.searchParams, kubelet: opts.kubelet });
      if (!m[3]) return json(res, 200, pod);
    }
    json(res, 404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", code: 404 });
  });
  const upgraded = new Set<import("node:stream").Duplex>();
  server.on("upgrade", (req, socket, head) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    const url = new URL(req.url ?? "/", "http://x");
    const m = POD_PATH.exec(url.pathname);
    const pod = m ? find(m[1] ?? "", m[2] ?? "") : undefined;
    const sub = m?.[3];
    if (!pod || (sub !== "exec" && sub !== "attach" && sub !== "portforward")) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    proxyPodUpgrade(req, socket, head, { pod, ...(opts.node ? { node: opts.node } : {}), subresource: sub, query: url.searchParams, kubelet: opts.kubelet });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const home = await mkdtemp(join(tmpdir(), "podyard-proxy-kubectl-"));
  const kubeconfig = join(home, "kubeconfig");
  await writeFile(kubeconfig, [
    "apiVersion: v1", "kind: Config", "current-context: test",
    "clusters:", "- name: test", "  cluster:", `    server: ${url}`,
    "users:", "- name: test", "  user:", "    token: test-token",
    "contexts:", "- name: test", "  context:", "    cluster: test", "    user: test", "    namespace: default", "",
  ].join("\n"));
  t.after(async () => {
    for (const s of upgraded) s.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(home, { recursive: true, force: true });
  });
  return { url, kubeconfig, env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, "cache") } };
}
