/** What `podyard login` and `podyard logout` do; loaded only when they run (see login-command.ts). */
import { errorClass, InvalidArgumentError, UnauthenticatedError } from "../../errdefs/index.js";
import { ociErrorCode, RegistryClient, responseStatus } from "../../registry/client/index.js";
import { print, withNode } from "./with-node.js";

export interface LoginFlags {
  username?: string;
  password?: string;
  passwordStdin?: boolean;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

function registryHost(server: string | undefined): string {
  if (server === undefined || server === "" || /(^|\/\/)(index\.)?docker\.io(\/|$)/.test(server)) return "docker.io";
  return server.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
}

export async function login(server: string | undefined, flags: LoginFlags): Promise<void> {
  const host = registryHost(server);
  if (flags.password !== undefined && flags.passwordStdin) throw new InvalidArgumentError("--password and --password-stdin are mutually exclusive");
  if (!flags.username) throw new InvalidArgumentError("login needs --username (interactive prompts are not supported)");
  const username = flags.username;
  const password = flags.passwordStdin ? await readStdin() : flags.password;
  if (flags.passwordStdin && password === "") throw new InvalidArgumentError("--password-stdin: standard input was empty");
  if (password === undefined || password === "") throw new InvalidArgumentError("login needs a password: --password-stdin or --password");
  await withNode(async (env) => {
    const credentials = { username, password };
    const client = new RegistryClient({ host, credentials, maxAttempts: 1 });
    await client.ping().catch((err: unknown) => {
      throw refused(host, username, err);
    });
    await env.logins.login(host, credentials);
    print("Login Succeeded");
  });
}

/** A 401 to a login says the credentials are wrong, in those words; other failures pass unchanged. */
function refused(host: string, username: string, err: unknown): unknown {
  if (errorClass(err) !== "Unauthenticated") return err;
  const status = responseStatus(err);
  const why = status !== undefined ? `${status} ${ociErrorCode(err) ?? "Unauthorized"}` : (err as Error).message;
  return new UnauthenticatedError(`login to ${host} failed: the registry refused the credentials for user ${JSON.stringify(username)} (${why})`, { cause: err });
}

export async function logout(server: string | undefined): Promise<void> {
  const host = registryHost(server);
  await withNode(async (env) => {
    const removed = await env.logins.logout(host);
    print(removed === false ? `Not logged in to ${host}` : `Removing login credentials for ${host}`);
  });
}
