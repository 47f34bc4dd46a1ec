/** A kubelet server on a loopback port, over a HostRuntime with one pod `web` (containers `main`, `side`) in `default`. */
import type { TestContext } from "node:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import type { Pod } from "../../../src/api/index.js";
import { createKubeletServer, type ContainerLookup, type KubeletProvider, type LookupError } from "../../../src/kubelet/server/index.js";
import { HostRuntime } from "./host-runtime.js";
import { makeTestPki, type TestPki } from "../../helpers/pki.js";

export interface KubeletFixture {
  port: number;
  pki: TestPki;
  runtime: HostRuntime;
  dir: string;
  pod: Pod;
  /** Lookups that fail, by `ns/pod/container` (e.g. a waiting container). */
  refusals: Map<string, LookupError["error"]>;
  get(path: string, opts?: { cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }>;
  ws(path: string, protocols: string[]): WebSocket;
}

export const WEB_POD: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web", namespace: "default", uid: "uid-web" },
  spec: { nodeName: "node1", containers: [{ name: "main", image: "busybox" }, { name: "side", image: "busybox" }] },
};

/** Starts the fixture (stopped after the test), or skips the test when openssl is missing. */
export async function startKubelet(t: TestContext): Promise<KubeletFixture | undefined> {
  const pki = await makeTestPki();
  if (typeof pki === "string") {
    process.stderr.write(`skipping: ${pki}\n`);
    t.skip(pki);
    return undefined;
  }
  const dir = await mkdtemp(join(tmpdir(), "podyard-kubelet-server-"));
  const runtime = new HostRuntime();
  for (const name of ["main", "side"]) {
    const logPath = join(dir, `${name}.log`);
    await writeFile(logPath, "");
    runtime.add({ id: `c-${name}`, name, podName: "web", namespace: "default", sandboxId: "sb-web", dir, logPath, state: "CONTAINER_RUNNING" });
  }
  const refusals = new Map<string, LookupError["error"]>();
  const provider: KubeletProvider = {
    pods: () => [WEB_POD],
    runtime,
    statsSummary: async () => ({ node: { nodeName: "node1" }, pods: [] }),
    async lookupContainer(ns, pod, container, opts): Promise<ContainerLookup | LookupError> {
      const refused = refusals.get(`${ns}/${pod}/${container}`);
      if (refused) return { error: refused };
      const c = [...runtime.containers.values()].find((x) => x.namespace === ns && x.podName === pod && x.name === container);
      if (!c) return { error: { code: 404, reason: "NotFound", message: `pod "${pod}" container "${container}" not found` } };
      if (opts.previous) return { error: { code: 400, reason: "BadRequest", message: `previous terminated container "${container}" in pod "${pod}" not found` } };
      return { containerId: c.id, logPath: c.logPath, running: c.state === "CONTAINER_RUNNING", sandboxId: c.sandboxId };
    },
    async lookupSandbox(ns, pod) {
      const c = [...runtime.containers.values()].find((x) => x.namespace === ns && x.podName === pod);
      return c ? { sandboxId: c.sandboxId } : { error: { code: 404, reason: "NotFound", message: `pod "${pod}" not found` } };
    },
  };
  const server = createKubeletServer({ tls: { cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca }, provider });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  t.after(async () => {
    runtime.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await pki.cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  const tls = (o?: { cert?: Buffer; key?: Buffer }): { ca: Buffer; cert?: Buffer; key?: Buffer } => {
    const x: { ca: Buffer; cert?: Buffer; key?: Buffer } = { ca: pki.ca };
    const cert = o ? o.cert : pki.clientCert;
    const key = o ? o.key : pki.clientKey;
    if (cert) x.cert = cert;
    if (key) x.key = key;
    return x;
  };
  return {
    port, pki, runtime, dir, pod: WEB_POD, refusals,
    get: (path, o) =>
      new Promise((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, path, ...tls(o), agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d: Buffer) => chunks.push(d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      }),
    ws: (path, protocols) => new WebSocket(`wss://127.0.0.1:${port}${path}`, protocols, { ...tls(), perMessageDeflate: false }),
  };
}

/** Everything a remotecommand client receives until the close: per-channel bytes, the status frame, the close code. */
export interface Transcript {
  protocol: string;
  channels: Map<number, Buffer>;
  closeCode: number;
}

export function collect(ws: WebSocket, onOpen?: (ws: WebSocket) => void): Promise<Transcript> {
  return new Promise((resolve, reject) => {
    const channels = new Map<number, Buffer>();
    ws.on("open", () => onOpen?.(ws));
    ws.on("message", (data: Buffer) => {
      const ch = data[0] ?? 0;
      channels.set(ch, Buffer.concat([channels.get(ch) ?? Buffer.alloc(0), data.subarray(1)]));
    });
    ws.on("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (d: Buffer) => chunks.push(d));
      res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") })));
    });
    ws.on("error", reject);
    ws.on("close", (code) => resolve({ protocol: ws.protocol, channels, closeCode: code }));
  });
}

export function text(t: Transcript, ch: number): string {
  return t.channels.get(ch)?.toString("utf8") ?? "";
}
