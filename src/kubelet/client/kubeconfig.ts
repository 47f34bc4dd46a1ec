/**
 * Reads a kubeconfig (clientcmd's v1 Config) into what one connection needs: the server, its CA,
 * and the client's credentials (bearer token or token file, client certificate and key as data or
 * files, or insecure-skip-tls-verify). Relative file paths resolve against the kubeconfig's folder,
 * as clientcmd does.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import { InvalidArgumentError } from "../../errdefs/index.js";
import type { Clock } from "../../clock/index.js";

export interface KubeClientConfig {
  /** `https://127.0.0.1:6443` (a path prefix is kept). */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  /** Read again once a minute, as client-go's cached file token source does (a rotated token is picked up). */
  tokenFile?: string;
  /** The clock of the token file's re-read period (the real clock by default). */
  clock?: Clock;
  insecureSkipTLSVerify?: boolean;
  /** TLS server name to check instead of the host of `server`. */
  tlsServerName?: string;
}

interface NamedCluster { name: string; cluster: Record<string, unknown> }
interface NamedUser { name: string; user: Record<string, unknown> }
interface NamedContext { name: string; context: { cluster?: string; user?: string } }

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Loads the kubeconfig at `path`, using `opts.context` or its current-context. */
export async function loadKubeconfig(path: string, opts: { context?: string } = {}): Promise<KubeClientConfig> {
  const text = await readFile(path, "utf8").catch((err: unknown) => {
    throw new InvalidArgumentError(`reading kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  });
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidArgumentError(`parsing kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  const base = dirname(resolve(path));
  const file = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));
  const contexts = (doc.contexts ?? []) as NamedContext[];
  const clusters = (doc.clusters ?? []) as NamedCluster[];
  const users = (doc.users ?? []) as NamedUser[];
  const ctxName = opts.context ?? str(doc["current-context"]) ?? contexts[0]?.name;
  const ctx = contexts.find((c) => c.name === ctxName)?.context;
  if (!ctx) throw new InvalidArgumentError(`kubeconfig ${path}: context "${ctxName ?? ""}" not found`);
  const cluster = clusters.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster) throw new InvalidArgumentError(`kubeconfig ${path}: cluster "${ctx.cluster ?? ""}" not found`);
  const user = users.find((u) => u.name === ctx.user)?.user ?? {};
  const server = str(cluster.server);
  if (!server) throw new InvalidArgumentError(`kubeconfig ${path}: cluster "${ctx.cluster ?? ""}" has no server`);

  const cfg: KubeClientConfig = { server: server.replace(/\/+$/, "") };
  const data = async (dataKey: string, fileKey: string, from: Record<string, unknown>): Promise<Buffer | undefined> => {
    const d = str(from[dataKey]);
    if (d) return Buffer.from(d, "base64");
    const f = str(from[fileKey]);
    if (f) return readFile(file(f));
    return undefined;
  };
  const ca = await data("certificate-authority-data", "certificate-authority", cluster);
  if (ca) cfg.ca = ca;
  if (cluster["insecure-skip-tls-verify"] === true) cfg.insecureSkipTLSVerify = true;
  const tlsName = str(cluster["tls-server-name"]);
  if (tlsName) cfg.tlsServerName = tlsName;
  const cert = await data("client-certificate-data", "client-certificate", user);
  const key = await data("client-key-data", "client-key", user);
  if (cert) cfg.cert = cert;
  if (key) cfg.key = key;
  const token = str(user.token);
  if (token) cfg.token = token;
  const tokenFile = str(user.tokenFile);
  if (tokenFile) cfg.tokenFile = file(tokenFile);
  return cfg;
}
