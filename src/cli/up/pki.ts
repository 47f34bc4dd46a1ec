/**
 * The node's PKI under `$PODYARD_HOME/pki`, made with the `openssl` CLI on first start (as
 * kubeadm lays it out): a CA, the API server's serving certificate, the kubelet's serving
 * certificate, the API server's client certificate towards kubelets, and an admin client
 * certificate. Existing files are kept; a serving certificate whose names no longer cover
 * the addresses asked for (another --api-addr host) is made again under the same CA.
 */
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { FailedPreconditionError, isNotFound } from "../../errdefs/index.js";

const run = promisify(execFile);
const DAYS = "3650";
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

export interface KeyPair {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface NodePki {
  dir: string;
  caFile: string;
  ca: Buffer;
  apiServer: KeyPair;
  kubelet: KeyPair;
  /** presented by the API server when it connects to a kubelet (kube-apiserver's --kubelet-client-certificate) */
  apiServerKubeletClient: KeyPair;
  /** a cluster-admin client certificate (CN kubernetes-admin, O system:masters) */
  admin: KeyPair;
}

export interface PkiOptions {
  /** hosts (IPs or DNS names) the API server's certificate must name, beside 127.0.0.1 and localhost */
  apiServerHosts?: string[];
  /** the kubelet's node name and the hosts its serving certificate must name */
  nodeName: string;
  kubeletHosts?: string[];
}

interface LeafSpec {
  name: string;
  subject: string;
  usage: "serverAuth" | "clientAuth";
  hosts: string[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (isNotFound(err) || (err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new FailedPreconditionError("making the node's certificates needs the openssl command: run `apt-get install openssl`");
    throw new FailedPreconditionError(`openssl ${args[0] ?? ""} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

function sanEntries(hosts: string[]): string {
  const uniq = [...new Set(hosts.filter((h) => h !== ""))];
  return uniq.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(",");
}

/** Whether the certificate in `pem` names every host in `hosts`. */
export function certCovers(pem: Buffer, hosts: string[]): boolean {
  const cert = new X509Certificate(pem);
  return hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h) !== undefined));
}

async function makeCa(dir: string): Promise<void> {
  await openssl([
    "req", "-x509", ...EC, "-keyout", join(dir, "ca.key"), "-out", join(dir, "ca.crt"),
    "-subj", "/CN=podyard-ca", "-days", DAYS,
  ]);
}

async function makeLeaf(dir: string, spec: LeafSpec, caDir = dir): Promise<void> {
  const key = join(dir, `${spec.name}.key`);
  const csr = join(dir, `${spec.name}.csr`);
  const ext = join(dir, `${spec.name}.ext`);
  const lines = [
    "basicConstraints=critical,CA:FALSE",
    `keyUsage=critical,digitalSignature${spec.usage === "serverAuth" ? ",keyEncipherment" : ""}`,
    `extendedKeyUsage=${spec.usage}`,
  ];
  if (spec.hosts.length > 0) lines.push(`subjectAltName=${sanEntries(spec.hosts)}`);
  await writeFile(ext, `${lines.join("\n")}\n`);
  try {
    await openssl(["req", "-new", ...EC, "-keyout", key, "-out", csr, "-subj", spec.subject]);
    await openssl([
      "x509", "-req", "-in", csr, "-CA", join(caDir, "ca.crt"), "-CAkey", join(caDir, "ca.key"), "-CAcreateserial", "-CAserial", join(caDir, "ca.srl"),
      "-out", join(dir, `${spec.name}.crt`), "-days", DAYS, "-extfile", ext,
    ]);
  } finally {
    await rm(csr, { force: true });
    await rm(ext, { force: true });
  }
  await chmod(key, 0o600);
}

async function pair(dir: string, name: string): Promise<KeyPair> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}

/** The PKI in `<home>/pki`, made or completed as needed. */
export async function ensurePki(home: string, opts: PkiOptions): Promise<NodePki> {
  const dir = join(home, "pki");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caFile = join(dir, "ca.crt");
  if (!(await exists(caFile)) || !(await exists(join(dir, "ca.key")))) {
    // a new CA invalidates every certificate signed by the old one
    for (const n of ["apiserver", "kubelet", "apiserver-kubelet-client", "admin"]) {
      await rm(join(dir, `${n}.crt`), { force: true });
      await rm(join(dir, `${n}.key`), { force: true });
    }
    await makeCa(dir);
    await chmod(join(dir, "ca.key"), 0o600);
  }
  const apiHosts = ["127.0.0.1", "localhost", "kubernetes", "kubernetes.default", ...(opts.apiServerHosts ?? [])];
  const kubeletHosts = ["127.0.0.1", "localhost", opts.nodeName, ...(opts.kubeletHosts ?? [])];
  const leaves: LeafSpec[] = [
    { name: "apiserver", subject: "/CN=kube-apiserver", usage: "serverAuth", hosts: apiHosts },
    { name: "kubelet", subject: `/CN=${opts.nodeName}`, usage: "serverAuth", hosts: kubeletHosts },
    { name: "apiserver-kubelet-client", subject: "/O=system:masters/CN=kube-apiserver-kubelet-client", usage: "clientAuth", hosts: [] },
    { name: "admin", subject: "/O=system:masters/CN=kubernetes-admin", usage: "clientAuth", hosts: [] },
  ];
  for (const leaf of leaves) {
    const crt = join(dir, `${leaf.name}.crt`);
    const present = (await exists(crt)) && (await exists(join(dir, `${leaf.name}.key`)));
    if (present && certCovers(await readFile(crt), leaf.hosts.filter((h) => h !== ""))) continue;
    await makeLeaf(dir, leaf);
  }
  return {
    dir,
    caFile,
    ca: await readFile(caFile),
    apiServer: await pair(dir, "apiserver"),
    kubelet: await pair(dir, "kubelet"),
    apiServerKubeletClient: await pair(dir, "apiserver-kubelet-client"),
    admin: await pair(dir, "admin"),
  };
}

/**
 * A serving certificate for a kubelet that joins the node whose PKI is `pkiDir`, signed by its
 * CA (what kubeadm's TLS bootstrap ends with), written as `<outDir>/kubelet.{crt,key}`: give
 * them to `podyard kubelet --tls-cert-file/--tls-private-key-file`, since that API server
 * verifies kubelet serving certificates. `hosts` are the addresses it is reached at (--node-ip).
 */
export async function issueKubeletCert(pkiDir: string, outDir: string, nodeName: string, hosts: string[] = []): Promise<KeyPair> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  await makeLeaf(outDir, { name: "kubelet", subject: `/CN=${nodeName}`, usage: "serverAuth", hosts: ["127.0.0.1", "localhost", nodeName, ...hosts] }, pkiDir);
  return pair(outDir, "kubelet");
}

/**
 * A self-signed serving certificate for a kubelet that joins another node's API server
 * (`podyard kubelet`) without --tls-cert-file: it has no CA key of that cluster. A podyard
 * API server verifies kubelet serving certificates against its CA (as kube-apiserver with
 * --kubelet-certificate-authority), so logs/exec through it fail until the kubelet is given a
 * certificate from issueKubeletCert.
 */
export async function ensureSelfSignedKubeletCert(home: string, nodeName: string, hosts: string[] = []): Promise<KeyPair> {
  const dir = join(home, "pki");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certFile = join(dir, "kubelet.crt");
  const keyFile = join(dir, "kubelet.key");
  const names = ["127.0.0.1", "localhost", nodeName, ...hosts];
  if (!((await exists(certFile)) && (await exists(keyFile)) && certCovers(await readFile(certFile), names))) {
    await openssl([
      "req", "-x509", ...EC, "-keyout", keyFile, "-out", certFile, "-subj", `/CN=${nodeName}`, "-days", DAYS,
      "-addext", `subjectAltName=${sanEntries(names)}`,
    ]);
    await chmod(keyFile, 0o600);
  }
  return { certFile, keyFile, cert: await readFile(certFile), key: await readFile(keyFile) };
}
