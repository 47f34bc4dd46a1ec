import assert from "node:assert/strict";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { test, type TestContext } from "node:test";
import type { Pod } from "../../../src/api/index.js";
import { startKubelet, WEB_POD } from "../../kubelet/server/fixture.js";
import { KUBECTL, kubectlMissing, portForward } from "../../helpers/kubectl.js";
import { kubeletConnection, kubeletNode, startTestApi } from "../../helpers/test-api.js";

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
  if (kubectlMissing(t, kubectl)) return;
  const kubelet = await startKubelet(t);
  if (!kubelet) return;
  kubelet.runtime.ports.set(8080, await podServer(t));
  const pod: Pod = { ...WEB_POD, status: { phase: "Running" } };
  const api = await startTestApi(t, { pods: [pod], node: kubeletNode(kubelet.port), kubelet: kubeletConnection(kubelet.pki) });
  const pf = await portForward(t, { ...api.env, ...extraEnv }, "pod/web", 8080, kubectl);
  assert.equal(await talk(pf.local, "ping\n"), "hello from pod\nPING\n");
  assert.equal(await talk(pf.local, "again\n"), "hello from pod\nAGAIN\n");
  assert.equal(pf.child.exitCode, null, pf.stderr());
}

test("kubectl port-forward through the proxy reaches the pod's port (SPDY tunnelled in WebSocket), connection after connection", (t) => forwardTest(t, {}));

test("kubectl port-forward over a plain SPDY/3.1 upgrade (kubectl before 1.31, or with websockets off) works too", (t) => forwardTest(t, { KUBECTL_PORT_FORWARD_WEBSOCKETS: "false" }));

test("kubectl 1.27 (SPDY only) port-forwards too", (t) => forwardTest(t, {}, "/usr/lib/google-cloud-sdk/bin/kubectl.1.27"));

test("a port nothing listens on: kubectl reports the kubelet's error for that connection", async (t) => {
  if (kubectlMissing(t)) return;
  const kubelet = await startKubelet(t);
  if (!kubelet) return;
  const api = await startTestApi(t, { pods: [{ ...WEB_POD, status: { phase: "Running" } }], node: kubeletNode(kubelet.port), kubelet: kubeletConnection(kubelet.pki) });
  const pf = await portForward(t, api.env, "pod/web", 9999);
  const sawError = new Promise<void>((resolve) => {
    const check = (): void => {
      if (/error forwarding port 9999 to pod web, uid uid-web/.test(pf.stderr())) resolve();
    };
    check();
    pf.child.stderr?.on("data", check); // after portForward's own listener, which collects the text
  });
  const s = connect({ host: "127.0.0.1", port: pf.local });
  s.on("error", () => undefined);
  await sawError;
  s.destroy();
  assert.match(pf.stderr(), /connection refused/);
});
