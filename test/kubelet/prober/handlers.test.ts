/** The probe handlers' results and texts, with portForward reaching a local server. */
import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { connectionRefused, type RuntimeService } from "../../../src/runtime/index.js";
import { runHTTPProbe, runTCPProbe, resolvePort, type ProbeTarget } from "../../../src/kubelet/prober/handlers.js";

async function target(t: import("node:test").TestContext): Promise<{ target: ProbeTarget; requests: http.IncomingMessage[] }> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    if (req.url === "/redirect") res.writeHead(302, { Location: "/" }).end("moved");
    else if (req.url === "/fail") res.writeHead(503).end("down");
    else res.writeHead(200).end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const runtime = {
    portForward: async (_sb: string, p: number) => {
      if (p !== 8080) throw connectionRefused(p);
      return new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, "127.0.0.1", () => resolve(s));
        s.once("error", reject);
      });
    },
  } as unknown as RuntimeService;
  return { target: { runtime, containerId: "c", sandboxId: "s", podIP: "10.88.0.7", container: { name: "web", ports: [{ name: "http", containerPort: 8080 }] } }, requests };
}

test("httpGet: 2xx succeeds with kube-probe's User-Agent, 3xx is a warning, 4xx/5xx fail with the status code, a closed port fails with Go's dial text", async (t) => {
  const { target: tg, requests } = await target(t);
  assert.deepEqual(await runHTTPProbe(tg, { httpGet: { path: "/healthz", port: "http" } }), { result: "Success", output: "ok" });
  assert.equal(requests[0]?.headers["user-agent"], "kube-probe/1.32");
  assert.equal(requests[0]?.headers.host, "10.88.0.7:8080");
  assert.deepEqual(await runHTTPProbe(tg, { httpGet: { path: "/redirect", port: 8080 } }), { result: "Warning", output: "moved" });
  assert.deepEqual(await runHTTPProbe(tg, { httpGet: { path: "/fail", port: 8080 } }), { result: "Failure", output: "HTTP probe failed with statuscode: 503" });
  assert.deepEqual(await runHTTPProbe(tg, { httpGet: { path: "/", port: 81 } }), { result: "Failure", output: 'Get "http://10.88.0.7:81/": dial tcp 10.88.0.7:81: connect: connection refused' });
});

test("tcpSocket: a listening port succeeds, a closed one fails with the dial error; named ports resolve", async (t) => {
  const { target: tg } = await target(t);
  assert.equal((await runTCPProbe(tg, { tcpSocket: { port: 8080 } })).result, "Success");
  assert.deepEqual(await runTCPProbe(tg, { tcpSocket: { port: 9 } }), { result: "Failure", output: "dial tcp 10.88.0.7:9: connect: connection refused" });
  assert.equal(resolvePort("http", tg.container), 8080);
  assert.throws(() => resolvePort("nope", tg.container), /couldn't find port: nope/);
});
