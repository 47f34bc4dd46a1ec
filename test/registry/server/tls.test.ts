/**
 * HTTPS: a registry served with a self-signed certificate answers clients that trust
 * it; the CLI refuses plain HTTP beyond loopback unless --insecure, and a certificate
 * without its key.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startRegistry } from "../../helpers/registry.js";
import { makeTempDir, removeDir, runPodyard, startRegistryProcess, type RegistryProcess } from "../../helpers/registry-process.js";
import { certOrSkip as certFor, makeCert } from "../../helpers/tls-cert.js";

const certOrSkip = (t: Parameters<typeof certFor>[0]): ReturnType<typeof certFor> => certFor(t, "tls.test.ts");

async function httpsGet(url: string, ca: Buffer | undefined): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (s: string) => (body += s));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("a registry served with TLS answers /v2/ to a client that trusts its certificate", async (t) => {
  const cert = await certOrSkip(t);
  if (!cert) return;
  const reg = await startRegistry({ tls: { cert: cert.cert, key: cert.key } });
  try {
    assert.match(reg.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${reg.url}/v2/`, cert.cert);
    assert.equal(res.status, 200);
    assert.equal(res.headers["docker-distribution-api-version"], "registry/2.0");
    assert.deepEqual(JSON.parse(res.body), {});
    await assert.rejects(httpsGet(`${reg.url}/v2/`, undefined), /self[- ]signed/i, "a client that does not trust the certificate is refused");
  } finally {
    await reg.close();
  }
});

test("podyard registry serve --tls-cert/--tls-key serves HTTPS", async (t) => {
  const cert = await certOrSkip(t);
  if (!cert) return;
  const root = await makeTempDir("tls-root");
  let proc: RegistryProcess | undefined;
  try {
    proc = await startRegistryProcess(root, ["--tls-cert", cert.certFile, "--tls-key", cert.keyFile]);
    assert.match(proc.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpsGet(`${proc.url}/v2/`, cert.cert);
    assert.equal(res.status, 200);
    const stopped = await proc.kill("SIGTERM");
    assert.equal(stopped.code, 0, "SIGTERM stops the server cleanly");
  } finally {
    await proc?.kill("SIGKILL");
    await removeDir(root);
  }
});

test("podyard registry serve refuses plain HTTP beyond loopback without --insecure, and a certificate without a key", async () => {
  const root = await makeTempDir("tls-refuse");
  try {
    const plain = await runPodyard(["registry", "serve", "--addr", "0.0.0.0:0", "--root", root]);
    assert.equal(plain.code, 2, `exit code (usage); stdout ${plain.stdout}`);
    assert.doesNotMatch(plain.stdout, /listening/);
    assert.match(plain.stderr, /refusing plain HTTP on 0\.0\.0\.0/);
    assert.match(plain.stderr, /--insecure/);
    assert.match(plain.stderr, /--tls-cert/);

    const halfTls = await runPodyard(["registry", "serve", "--addr", "127.0.0.1:0", "--root", root, "--tls-cert", join(root, "cert.pem")]);
    assert.equal(halfTls.code, 2, `exit code (usage); stdout ${halfTls.stdout}`);
    assert.doesNotMatch(halfTls.stdout, /listening/);
    assert.match(halfTls.stderr, /--tls-cert and --tls-key go together/);

    const halfKey = await runPodyard(["registry", "serve", "--addr", "127.0.0.1:0", "--root", root, "--tls-key", join(root, "key.pem")]);
    assert.equal(halfKey.code, 2);
    assert.match(halfKey.stderr, /--tls-cert and --tls-key go together/);

    // with --insecure the same address is served
    const insecure = await startRegistryProcess(root, ["--insecure"], "0.0.0.0:0");
    try {
      const port = new URL(insecure.url).port;
      const res = await fetch(`http://127.0.0.1:${port}/v2/`);
      assert.equal(res.status, 200);
    } finally {
      await insecure.kill("SIGKILL");
    }
  } finally {
    await removeDir(root);
  }
});

test("podyard registry serve names the flag and the file when a certificate, key or htpasswd file is missing or wrong", async (t) => {
  const cert = await certOrSkip(t);
  if (!cert) return;
  const root = await makeTempDir("tls-files");
  try {
    const junk = join(root, "junk.pem");
    await writeFile(junk, "not PEM at all\n");
    const missing = join(root, "missing.pem");
    const cases: [string[], string][] = [
      [["--tls-cert", missing, "--tls-key", cert.keyFile], `--tls-cert ${missing}: no such file`],
      [["--tls-cert", cert.certFile, "--tls-key", missing], `--tls-key ${missing}: no such file`],
      [["--tls-cert", junk, "--tls-key", cert.keyFile], `--tls-cert ${junk}: no PEM certificate in it`],
      [["--tls-cert", cert.certFile, "--tls-key", junk], `--tls-key ${junk}: no PEM private key in it`],
      [["--tls-cert", cert.certFile, "--tls-key", cert.certFile], `--tls-key ${cert.certFile}: no PEM private key in it`],
      [["--htpasswd", missing], `--htpasswd ${missing}: no such file`],
    ];
    const other = await makeCert();
    if (typeof other !== "string") {
      t.after(() => removeDir(other.dir));
      cases.push([["--tls-cert", cert.certFile, "--tls-key", other.keyFile],
        `--tls-key ${other.keyFile} is not the private key of the certificate in --tls-cert ${cert.certFile}`]);
    }
    for (const [flags, message] of cases) {
      const r = await runPodyard(["registry", "serve", "--addr", "127.0.0.1:0", "--root", join(root, "store"), ...flags]);
      assert.equal(r.code, 2, `the usage exit code: ${flags.join(" ")}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /listening/);
      assert.equal(r.stderr, `podyard: error: ${message}\n`, flags.join(" "));
    }
  } finally {
    await removeDir(root);
  }
});
