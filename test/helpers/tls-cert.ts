/** A self-signed certificate for 127.0.0.1 made with openssl, for tests of HTTPS registries. */
import type { TestContext } from "node:test";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeTempDir, removeDir } from "./registry-process.js";

const run = promisify(execFile);

export interface Cert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** A self-signed P-256 certificate for 127.0.0.1, or a reason why it could not be made. */
export async function makeCert(): Promise<Cert | string> {
  const dir = await makeTempDir("tls");
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  try {
    await run("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyFile, "-out", certFile, "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1",
    ]);
  } catch (err) {
    await removeDir(dir);
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return e.code === "ENOENT" ? "openssl is not installed" : `openssl failed: ${e.stderr ?? e.message}`;
  }
  return { dir, certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

/** Makes a certificate for the test (removed after it), or skips the test with the reason. */
export async function certOrSkip(t: TestContext, file: string): Promise<Cert | undefined> {
  const cert = await makeCert();
  if (typeof cert === "string") {
    process.stderr.write(`${file}: skipping: ${cert}\n`);
    t.skip(cert);
    return undefined;
  }
  t.after(() => removeDir(cert.dir));
  return cert;
}
