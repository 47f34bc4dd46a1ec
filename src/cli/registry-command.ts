/** `podyard registry serve` and `podyard registry gc`; what they do is in registry-actions.ts, imported when they run. */
import { Command } from "commander";
import { optionWithDefault, parseAddr, parseDuration, parsePositiveInt } from "./parse-flags.js";
import type { GcFlags, ServeFlags } from "./registry-actions.js";

export function registryCommand(): Command {
  const cmd = new Command("registry").description("Run an OCI Distribution registry (the tutorial's docker-hub)");
  cmd
    .command("serve")
    .description("Serve the OCI Distribution API over HTTP(S)")
    .addOption(optionWithDefault("--addr <host:port>", "address to listen on", "127.0.0.1:5000", parseAddr))
    .requiredOption("--root <dir>", "storage directory")
    .option("--htpasswd <file>", "require Basic auth against this htpasswd file (bcrypt entries)")
    .option("--token-auth", "require Bearer tokens from the built-in token endpoint (/auth/token)")
    .option("--token-realm <url>", "the token endpoint URL clients are sent to (default: this server's /auth/token)")
    .addOption(optionWithDefault("--token-service <name>", "the service name in tokens", "podyard-registry"))
    .option("--anonymous-pull", "with --token-auth: hand out pull tokens without credentials")
    .option("--tls-cert <file>", "serve HTTPS with this certificate (PEM)")
    .option("--tls-key <file>", "the certificate's private key (PEM)")
    .option("--insecure", "allow plain HTTP on an address other than loopback")
    .option("--proxy-remote-url <url>", "be a pull-through cache of this upstream registry")
    .option("--proxy-username <user>", "upstream user name")
    .option("--proxy-password <password>", "upstream password")
    .option("--no-delete", "refuse DELETE of manifests, tags and blobs (405 UNSUPPORTED)")
    .option("--max-manifest-bytes <n>", "largest manifest accepted (default: 4 MiB)", parsePositiveInt)
    .addOption(optionWithDefault("--read-timeout <duration>", "close a connection whose client sends (or reads) nothing this long mid-request; 0: never", "60s", parseDuration))
    .addOption(optionWithDefault("--idle-timeout <duration>", "close a kept-alive connection idle this long between requests; 0: never", "30s", parseDuration))
    .action(async (flags: ServeFlags) => (await import("./registry-actions.js")).serve(flags));
  cmd
    .command("gc")
    .description("Delete blobs no manifest references (mark and sweep); safe while the registry runs")
    .requiredOption("--root <dir>", "storage directory")
    .option("--dry-run", "report what would be deleted, delete nothing")
    .option("--delete-untagged", "also delete manifests no tag points at")
    .addOption(optionWithDefault("--grace <duration>", "spare unreferenced blobs younger than this", "1h", parseDuration))
    .action(async (flags: GcFlags) => (await import("./registry-actions.js")).gc(flags));
  return cmd;
}

