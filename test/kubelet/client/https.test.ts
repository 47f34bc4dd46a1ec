/** The client over HTTPS as a real API server needs it: the cluster CA, a bearer token or a client certificate. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TLSSocket } from "node:tls";
import { test } from "node:test";
import { FakeClock } from "../../../src/clock/index.js";
import { KubeClient, loadKubeconfig, TOKEN_FILE_REREAD_MS } from "../../../src/kubelet/index.js";

function openssl(dir: string, ...args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
}

test("HTTPS with the kubeconfig's CA data, a token file, and a client certificate", async (t) => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
  } catch {
    t.skip("openssl is not installed");
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), "kubelet-tls-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=test-ca");
  await writeFile(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1\n");
  openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=apiserver");
  openssl(dir, "x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "1", "-extfile", "san.cnf");
  openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", "cli.key", "-out", "cli.csr", "-subj", "/CN=system:node:n1/O=system:nodes");
  openssl(dir, "x509", "-req", "-in", "cli.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "cli.crt", "-days", "1");
  const ca = await readFile(join(dir, "ca.crt"));
  const seen: { auth: string | undefined; cn: string | undefined }[] = [];
  const server = https.createServer({ key: await readFile(join(dir, "srv.key")), cert: await readFile(join(dir, "srv.crt")), ca, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seen.push({ auth: req.headers.authorization, cn: (req.socket as TLSSocket).authorized ? (peer.subject?.CN as string | undefined) : undefined });
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeFile(join(dir, "token"), "s3cret\n");
  const b64 = (s: Buffer): string => s.toString("base64");
  await writeFile(join(dir, "kubeconfig"), JSON.stringify({
    apiVersion: "v1", kind: "Config", "current-context": "node",
    clusters: [{ name: "c", cluster: { server: url, "certificate-authority-data": b64(ca) } }],
    users: [
      { name: "tok", user: { tokenFile: "token" } },
      { name: "cert", user: { "client-certificate": "cli.crt", "client-key-data": b64(await readFile(join(dir, "cli.key"))) } },
    ],
    contexts: [{ name: "node", context: { cluster: "c", user: "tok" } }, { name: "cert", context: { cluster: "c", user: "cert" } }],
  }));
  const tok = new KubeClient(await loadKubeconfig(join(dir, "kubeconfig")));
  t.after(() => tok.close());
  assert.equal((await tok.get("/api/v1/namespaces/default")).metadata.name, "default");
  const cert = new KubeClient(await loadKubeconfig(join(dir, "kubeconfig"), { context: "cert" }));
  t.after(() => cert.close());
  await cert.get("/api/v1/namespaces/default");
  assert.deepEqual(seen, [{ auth: "Bearer s3cret", cn: undefined }, { auth: undefined, cn: "system:node:n1" }]);
  const wrongCA = new KubeClient({ server: url });
  t.after(() => wrongCA.close());
  await assert.rejects(wrongCA.get("/api/v1/namespaces/default"), /self[- ]signed|unable to verify|certificate/i);
});

test("a token file is read once, then again only after a minute on the clock, as client-go's cached file token source does", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "kubelet-token-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const seen: (string | undefined)[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const clock = new FakeClock(Date.UTC(2026, 11, 3));
  await writeFile(join(dir, "token"), "first\n");
  const client = new KubeClient({ server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, tokenFile: join(dir, "token"), clock });
  t.after(() => client.close());
  await client.get("/api/v1/namespaces/default");
  await writeFile(join(dir, "token"), "rotated\n");
  clock.step(TOKEN_FILE_REREAD_MS - 1);
  await client.get("/api/v1/namespaces/default");
  clock.step(1);
  await client.get("/api/v1/namespaces/default");
  assert.deepEqual(seen, ["Bearer first", "Bearer first", "Bearer rotated"]);
});
