/** Test certificates: a CA, a kubelet serving certificate and an API-server client certificate it signed, and a stranger's client certificate. */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface TestPki {
  ca: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** Self-signed: not from the CA, so the kubelet must refuse it. */
  strangerCert: Buffer;
  strangerKey: Buffer;
  cleanup(): Promise<void>;
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

async function signed(dir: string, name: string, subj: string, ext: string): Promise<void> {
  await run("openssl", ["req", ...EC, "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.csr`), "-subj", subj]);
  await writeFile(join(dir, `${name}.ext`), ext);
  await run("openssl", ["x509", "-req", "-in", join(dir, `${name}.csr`), "-CA", join(dir, "ca.crt"), "-CAkey", join(dir, "ca.key"), "-CAcreateserial",
    "-out", join(dir, `${name}.crt`), "-days", "1", "-extfile", join(dir, `${name}.ext`)]);
}

/** Makes the certificates with openssl, or returns why it could not. */
export async function makeTestPki(): Promise<TestPki | string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-kubelet-pki-"));
  try {
    await run("openssl", ["req", "-x509", ...EC, "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.crt"), "-subj", "/CN=podyard-test-ca", "-days", "1",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    await signed(dir, "server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    await signed(dir, "client", "/O=system:masters/CN=kube-apiserver-kubelet-client", "extendedKeyUsage=clientAuth\n");
    await run("openssl", ["req", "-x509", ...EC, "-keyout", join(dir, "stranger.key"), "-out", join(dir, "stranger.crt"), "-subj", "/CN=stranger", "-days", "1"]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return e.code === "ENOENT" ? "openssl is not installed" : `openssl failed: ${e.stderr ?? e.message}`;
  }
  const f = (n: string): Promise<Buffer> => readFile(join(dir, n));
  return {
    ca: await f("ca.crt"), serverCert: await f("server.crt"), serverKey: await f("server.key"),
    clientCert: await f("client.crt"), clientKey: await f("client.key"),
    strangerCert: await f("stranger.crt"), strangerKey: await f("stranger.key"),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
