import { Command } from "commander";
import { RegistryClient } from "../../registry/client/index.js";
import { print, withNode } from "./with-node.js";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

function registryHost(server: string | undefined): string {
  if (server === undefined || server === "" || /(^|\/\/)(index\.)?docker\.io(\/|$)/.test(server)) return "docker.io";
  return server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

/** `podyard login [-u USER] [-p PASS | --password-stdin] [REGISTRY]`: checks the credentials, then keeps them. */
export function loginCommand(): Command {
  return new Command("login")
    .description("Log in to a registry (credentials are checked, then stored in $PODYARD_HOME/auth.json)")
    .argument("[registry]", "registry host, e.g. 127.0.0.1:5000 (default docker.io)")
    .option("-u, --username <user>", "user name")
    .option("-p, --password <password>", "password (prefer --password-stdin)")
    .option("--password-stdin", "read the password from standard input")
    .action(async (server: string | undefined, flags: { username?: string; password?: string; passwordStdin?: boolean }) => {
      const host = registryHost(server);
      if (flags.password !== undefined && flags.passwordStdin) throw new Error("--password and --password-stdin are mutually exclusive");
      if (!flags.username) throw new Error("login needs --username (interactive prompts are not supported)");
      const password = flags.passwordStdin ? await readStdin() : flags.password;
      if (password === undefined || password === "") throw new Error("login needs a password: --password-stdin or --password");
      await withNode(async (env) => {
        const credentials = { username: flags.username ?? "", password };
        const client = new RegistryClient({ host, credentials, maxAttempts: 1 });
        await client.ping();
        await env.logins.login(host, credentials);
        print("Login Succeeded");
      });
    });
}

/** `podyard logout [REGISTRY]`. */
export function logoutCommand(): Command {
  return new Command("logout")
    .description("Forget the credentials stored for a registry")
    .argument("[registry]", "registry host (default docker.io)")
    .action(async (server: string | undefined) => {
      const host = registryHost(server);
      await withNode(async (env) => {
        const removed = await env.logins.logout(host);
        print(removed === false ? `Not logged in to ${host}` : `Removing login credentials for ${host}`);
      });
    });
}
