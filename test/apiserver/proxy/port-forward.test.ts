import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { access } from "node:fs/promises";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import type { Node, Pod } from "../../../src/api/index.js";
import { startKubelet, WEB_POD } from "../../kubelet/server/fixture.js";
import { startTestApi } from "./test-api.js";

const KUBECTL = "/usr/bin/kubectl";

/** A "pod" server: greets, then echoes each line upper-cased. */
async function podServer(t: TestContext): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.write("hello from pod\n");
    s.on("data", (d: Buffer) => s.write(d.toString().toUpperCase()));
    s.on("end", () => s.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

function talk(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port });
    let got = "";
    s.on("data", (d: Buffer) => {
      got += d.toString();
      if (got === "hello from pod\n") s.write(line);
      if (got.endsWith(line.toUpperCase())) s.end();
    });
    s.on("close", () => resolve(got));
    s.on("error", reject);
  });
}

async function forwardTest(t: TestContext, extraEnv: NodeJS.ProcessEnv, kubectl = KUBECTL): Promise<void> {
  try {
    await access(kubectl);
  } catch {
    process.stderr.write(`skipping: ${kubectl} is not installed\n`);
    return t.skip(`${kubectl} is not installed`);
  }
  const kubelet = await startKubelet(t);
  if (!kubelet) return;
  kubelet.runtime.ports.set(8080, await podServer(t));
  const node: Node = { metadata: { name: "node1" }, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } };
  const pod: Pod = { ...WEB_POD, status: { phase: "Running" } };
  const api = await startTestApi(t, { pods: [pod], node, kubelet: { clientCert: kubelet.pki.clientCert, clientKey: kubelet.pki.clientKey, ca: kubelet.pki.ca } });
  const child = spawn(kubectl, ["port-forward", "pod/web", ":8080", "--address", "127.0.0.1"], { env: { ...api.env, ...extraEnv }, stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const local = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`kubectl port-forward exited ${code}: ${stderr}`)));
  });
  assert.equal(await talk(local, "ping\n"), "hello from pod\nPING\n");
  assert.equal(await talk(local, "again\n"), "hello from pod\nAGAIN\n");
  assert.equal(child.exitCode, null, stderr);
}

test("kubectl port-forward through the proxy reaches the pod's port (SPDY tunnelled in WebSocket), connection after connection", (t) => forwardTest(t, {}));

test("kubectl port-forward over a plain SPDY/3.1 upgrade (kubectl before 1.31, or with websockets off) works too", (t) => forwardTest(t, { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }));

test("kubectl 1.27 (SPDY only) port-forwards too", (t) => forwardTest(t, {}, "/usr/lib/google-cloud-sdk/bin/kubectl.1.27"));

test("a port nothing listens on: kubectl reports the kubelet's error for that connection", async (t) => {
  try {
    await access(KUBECTL);
  } catch {
    return t.skip(`${KUBECTL} is not installed`);
  }
  const kubelet = await startKubelet(t);
  if (!kubelet) return;
  const node: Node = { metadata: { name: "node1" }, status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } };
  const api = await startTestApi(t, { pods: [{ ...WEB_POD, status: { phase: "Running" } }], node, kubelet: { clientCert: kubelet.pki.clientCert, clientKey: kubelet.pki.clientKey, ca: kubelet.pki.ca } });
  const child = spawn(KUBECTL, ["port-forward", "pod/web", ":9999", "--address", "127.0.0.1"], { env: api.env, stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  let stderr = "";
  const sawError = new Promise<void>((resolve) => {
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (/error forwarding port 9999 to pod web, uid uid-web/.test(stderr)) resolve();
    });
  });
  const local = await new Promise<number>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 9999/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`kubectl port-forward exited ${code}: ${stderr}`)));
  });
  const s = connect({ host: "127.0.0.1", port: local });
  s.on("error", () => undefined);
  await sawError;
  s.destroy();
  assert.match(stderr, /connection refused/);
});
