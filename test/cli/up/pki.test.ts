import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensurePki, ensureSelfSignedKubeletCert, issueKubeletCert } from "../../../src/cli/up/pki.js";
import { ensureToken, makeAuthenticator } from "../../../src/cli/up/credentials.js";

async function temp(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-pki-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test("the PKI: a CA and four certificates signed by it, kept on the next start", async (t) => {
  const home = await temp(t);
  const pki = await ensurePki(home, { nodeName: "node1", apiServerHosts: ["10.1.2.3", "podyard.example"] });
  const ca = new X509Certificate(pki.ca);
  assert.equal(ca.ca, true);
  const api = new X509Certificate(pki.apiServer.cert);
  assert.ok(api.verify(ca.publicKey));
  assert.equal(api.checkIP("127.0.0.1"), "127.0.0.1");
  assert.equal(api.checkIP("10.1.2.3"), "10.1.2.3");
  assert.equal(api.checkHost("localhost"), "localhost");
  assert.equal(api.checkHost("podyard.example"), "podyard.example");
  const kubelet = new X509Certificate(pki.kubelet.cert);
  assert.ok(kubelet.verify(ca.publicKey));
  assert.equal(kubelet.checkHost("node1"), "node1");
  assert.match(new X509Certificate(pki.admin.cert).subject, /CN=kubernetes-admin/);
  assert.match(new X509Certificate(pki.apiServerKubeletClient.cert).subject, /CN=kube-apiserver-kubelet-client/);
  assert.equal((await stat(join(home, "pki", "ca.key"))).mode & 0o777, 0o600);
  assert.equal((await stat(pki.admin.keyFile)).mode & 0o777, 0o600);

  const again = await ensurePki(home, { nodeName: "node1", apiServerHosts: ["10.1.2.3"] });
  assert.ok(again.apiServer.cert.equals(pki.apiServer.cert), "a certificate that still covers the names is kept");
  const other = await ensurePki(home, { nodeName: "node1", apiServerHosts: ["10.9.9.9"] });
  assert.ok(other.ca.equals(pki.ca));
  assert.ok(!other.apiServer.cert.equals(pki.apiServer.cert), "a new --api-addr host makes a new serving certificate");
  assert.equal(new X509Certificate(other.apiServer.cert).checkIP("10.9.9.9"), "10.9.9.9");
});

test("the API server accepts the token or a client certificate from the CA, nothing else", async (t) => {
  const home = await temp(t);
  const pki = await ensurePki(home, { nodeName: "node1" });
  const token = await ensureToken(home);
  assert.match(token, /^[0-9a-f]{64}$/);
  assert.equal(await ensureToken(home), token);
  assert.equal((await stat(join(home, "token"))).mode & 0o777, 0o600);
  assert.equal((await readFile(join(home, "token"), "utf8")).trim(), token);

  const authenticate = makeAuthenticator(token);
  const server = createServer({ cert: pki.apiServer.cert, key: pki.apiServer.key, ca: pki.ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const who = authenticate(req);
    res.writeHead(who ? 200 : 401).end(who ? JSON.stringify(who) : "");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const ask = (opts: { token?: string; cert?: Buffer; key?: Buffer }): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1", port, path: "/api", ca: pki.ca, agent: false,
      ...(opts.cert ? { cert: opts.cert, key: opts.key } : {}),
      headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
    }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
  assert.equal((await ask({ token })).status, 200);
  assert.equal((await ask({ token: "nope" })).status, 401);
  assert.equal((await ask({})).status, 401);
  const admin = await ask({ cert: pki.admin.cert, key: pki.admin.key });
  assert.equal(admin.status, 200);
  assert.deepEqual(JSON.parse(admin.body), { user: "kubernetes-admin", groups: ["system:masters", "system:authenticated"] });
  const stranger = await ensureSelfSignedKubeletCert(await temp(t), "elsewhere");
  assert.equal((await ask({ cert: stranger.cert, key: stranger.key })).status, 401);
});

test("kubelet serving certificates verify against the node's CA, also one issued for a joining node", async (t) => {
  const home = await temp(t);
  const pki = await ensurePki(home, { nodeName: "node1" });
  const joined = await issueKubeletCert(pki.dir, join(await temp(t), "tls"), "node2", ["10.0.0.2"]);
  const selfSigned = await ensureSelfSignedKubeletCert(await temp(t), "node3");
  // what the API server does towards a kubelet: TLS with the CA as the only trust, checking the name it dials
  const get = async (pair: { cert: Buffer; key: Buffer }, servername?: string): Promise<string> => {
    const server = createServer({ cert: pair.cert, key: pair.key }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      return await new Promise<string>((resolve) => {
        const req = request({ host: "127.0.0.1", port: (server.address() as AddressInfo).port, path: "/healthz", ca: pki.ca, rejectUnauthorized: true, agent: false, ...(servername ? { servername } : {}) }, (res) => {
          res.resume();
          res.on("end", () => resolve(String(res.statusCode)));
        });
        req.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end();
      });
    } finally {
      server.close();
    }
  };
  assert.equal(await get(pki.kubelet), "200");
  assert.equal(await get(joined), "200");
  assert.equal(new X509Certificate(joined.cert).checkIP("10.0.0.2"), "10.0.0.2");
  assert.equal(new X509Certificate(joined.cert).checkHost("node2"), "node2");
  assert.notEqual(await get(selfSigned), "200", "a self-signed kubelet certificate is refused");
  assert.equal((await stat(joined.keyFile)).mode & 0o777, 0o600);
});
