/** What `podyard registry serve` and `podyard registry gc` do; loaded only when they run (see registry-command.ts). */
import { createSecureContext } from "node:tls";
import { realClock } from "../clock/index.js";
import { InvalidArgumentError } from "../errdefs/index.js";
import { checkRoot, collectGarbage, createPullThroughServer, Registry, RegistryServer, type RegistryServerOptions } from "../registry/server/index.js";
import { isLoopback } from "./parse-flags.js";
import { readFlagFile } from "./flag-file.js";
import { registryAuth } from "./registry-auth.js";

export interface ServeFlags {
  addr: { host: string; port: number };
  root: string;
  htpasswd?: string;
  tokenAuth?: boolean;
  tokenRealm?: string;
  tokenService: string;
  anonymousPull?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  insecure?: boolean;
  proxyRemoteUrl?: string;
  proxyUsername?: string;
  proxyPassword?: string;
  delete: boolean;
  maxManifestBytes?: number;
  /** ms */
  readTimeout: number;
  /** ms */
  idleTimeout: number;
}

export interface GcFlags {
  root: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  grace: number;
}

/**
 * The certificate and key of --tls-cert/--tls-key, checked as TLS will use them, so that a
 * wrong file is named instead of OpenSSL's "error:0480006C:PEM routines::no start line".
 */
async function readTls(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  const cert = await readFlagFile("--tls-cert", certFile);
  const key = await readFlagFile("--tls-key", keyFile);
  const check = (what: string, ctx: Parameters<typeof createSecureContext>[0]): void => {
    try {
      createSecureContext(ctx);
    } catch (err) {
      throw new InvalidArgumentError(what, { cause: err });
    }
  };
  check(`--tls-cert ${certFile}: no PEM certificate in it`, { cert });
  check(`--tls-key ${keyFile}: no PEM private key in it`, { key });
  check(`--tls-key ${keyFile} is not the private key of the certificate in --tls-cert ${certFile}`, { cert, key });
  return { cert, key };
}

export async function serve(flags: ServeFlags): Promise<void> {
  const { host, port } = flags.addr;
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new InvalidArgumentError("--tls-cert and --tls-key go together");
  if (!flags.tlsCert && !isLoopback(host) && !flags.insecure) {
    throw new InvalidArgumentError(`refusing plain HTTP on ${host}: serve TLS with --tls-cert/--tls-key, or pass --insecure`);
  }
  const scheme = flags.tlsCert ? "https" : "http";
  const opts: RegistryServerOptions = {
    root: flags.root,
    settings: { deleteEnabled: flags.delete },
    readTimeoutMs: flags.readTimeout,
    idleTimeoutMs: flags.idleTimeout,
  };
  if (flags.maxManifestBytes) opts.maxManifestBytes = flags.maxManifestBytes;
  if (flags.tlsCert && flags.tlsKey) opts.tls = await readTls(flags.tlsCert, flags.tlsKey);
  const auth = await registryAuth({
    ...(flags.htpasswd !== undefined ? { htpasswd: flags.htpasswd } : {}),
    tokenAuth: flags.tokenAuth === true,
    realm: flags.tokenRealm,
    scheme,
    service: flags.tokenService,
    anonymousPull: flags.anonymousPull === true,
  });
  if (auth) {
    opts.authorizer = auth.authorizer;
    if (auth.extraRoutes) opts.extraRoutes = auth.extraRoutes;
  }
  const server = flags.proxyRemoteUrl
    ? createPullThroughServer({
      ...opts,
      remoteUrl: flags.proxyRemoteUrl,
      ...(flags.proxyUsername !== undefined ? { username: flags.proxyUsername } : {}),
      ...(flags.proxyPassword !== undefined ? { password: flags.proxyPassword } : {}),
    })
    : new RegistryServer(opts);
  const url = await server.listen(port, host);
  process.stdout.write(`podyard registry listening on ${url} (storage ${flags.root})\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

export async function gc(flags: GcFlags): Promise<void> {
  await checkRoot(flags.root, { create: false });
  const registry = new Registry(flags.root, { clock: realClock });
  const report = await collectGarbage(registry, {
    clock: realClock,
    graceMs: flags.grace,
    deleteUntagged: flags.deleteUntagged === true,
    dryRun: flags.dryRun === true,
    log: (line) => process.stdout.write(`${line}\n`),
  });
  const verb = flags.dryRun ? "would delete" : "deleted";
  process.stdout.write(
    `${report.repositories} repositories, ${report.manifests} manifests, ${report.marked} blobs marked; ` +
      `${verb} ${report.blobsDeleted.length} blobs (${report.bytesFreed} bytes), ${report.manifestsDeleted} untagged manifests, ` +
      `${report.uploadsPurged} stale uploads\n`,
  );
}
