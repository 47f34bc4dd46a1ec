/** `podyard registry serve` and `podyard registry gc`. */
import { readFile } from "node:fs/promises";
import { Command } from "commander";
import { realClock } from "../clock/index.js";
import { collectGarbage, createPullThroughServer, Registry, RegistryServer, type RegistryServerOptions } from "../registry/server/index.js";
import { isLoopback, parseAddr, parseDuration, parsePositiveInt } from "./parse-flags.js";
import { registryAuth } from "./registry-auth.js";

interface ServeFlags {
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
}

interface GcFlags {
  root: string;
  dryRun?: boolean;
  deleteUntagged?: boolean;
  grace: number;
}

export function registryCommand(): Command {
  const cmd = new Command("registry").description("Run an OCI Distribution registry (the tutorial's docker-hub)");
  cmd
    .command("serve")
    .description("Serve the OCI Distribution API over HTTP(S)")
    .option("--addr <host:port>", "address to listen on", parseAddr, parseAddr("127.0.0.1:5000"))
    .requiredOption("--root <dir>", "storage directory")
    .option("--htpasswd <file>", "require Basic auth against this htpasswd file (bcrypt entries)")
    .option("--token-auth", "require Bearer tokens from the built-in token endpoint (/auth/token)")
    .option("--token-realm <url>", "the token endpoint URL clients are sent to (default: this server's /auth/token)")
    .option("--token-service <name>", "the service name in tokens", "podyard-registry")
    .option("--anonymous-pull", "with --token-auth: hand out pull tokens without credentials")
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM)")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option("--insecure", "allow plain HTTP on an address other than loopback")
    .option("--proxy-remote-url <url>", "be a pull-through cache of this upstream registry")
    .option("--proxy-username <user>", "upstream user name")
    .option("--proxy-password <password>", "upstream password")
    .option("--no-delete", "refuse DELETE of manifests, tags and blobs (405 UNSUPPORTED)")
    .option("--max-manifest-bytes <n>", "largest manifest accepted (default 4 MiB)", parsePositiveInt)
    .action(async (flags: ServeFlags) => serve(flags));
  cmd
    .command("gc")
    .description("Delete blobs no manifest references (mark and sweep); safe while the registry runs")
    .requiredOption("--root <dir>", "storage directory")
    .option("--dry-run", "report what would be deleted, delete nothing")
    .option("--delete-untagged", "also delete manifests no tag points at")
    .option("--grace <duration>", "spare unreferenced blobs younger than this", parseDuration, parseDuration("1h"))
    .action(async (flags: GcFlags) => gc(flags));
  return cmd;
}

async function serve(flags: ServeFlags): Promise<void> {
  const { host, port } = flags.addr;
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new Error("--tls-cert and --tls-key go together");
  if (!flags.tlsCert && !isLoopback(host) && !flags.insecure) {
    throw new Error(`refusing plain HTTP on ${host}: serve TLS with --tls-cert/--tls-key, or pass --insecure`);
  }
  const scheme = flags.tlsCert ? "https" : "http";
  const opts: RegistryServerOptions = { root: flags.root, settings: { deleteEnabled: flags.delete } };
  if (flags.maxManifestBytes) opts.maxManifestBytes = flags.maxManifestBytes;
  if (flags.tlsCert && flags.tlsKey) opts.tls = { cert: await readFile(flags.tlsCert), key: await readFile(flags.tlsKey) };
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

async function gc(flags: GcFlags): Promise<void> {
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
