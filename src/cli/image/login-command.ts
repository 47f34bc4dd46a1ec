import { Command } from "commander";
import type { LoginFlags } from "./login-action.js";

/** `podyard login [-u USER] [-p PASS | --password-stdin] [REGISTRY]`: checks the credentials, then keeps them. */
export function loginCommand(): Command {
  return new Command("login")
    .description("Log in to a registry (credentials are checked, then stored in $PODYARD_HOME/auth.json)")
    .argument("[registry]", "registry host, e.g. 127.0.0.1:5000 (default: docker.io)")
    .option("-u, --username <user>", "user name")
    .option("-p, --password <password>", "password (prefer --password-stdin)")
    .option("--password-stdin", "read the password from standard input")
    .action(async (server: string | undefined, flags: LoginFlags) => (await import("./login-action.js")).login(server, flags));
}

/** `podyard logout [REGISTRY]`. */
export function logoutCommand(): Command {
  return new Command("logout")
    .description("Forget the credentials stored for a registry")
    .argument("[registry]", "registry host (default: docker.io)")
    .action(async (server: string | undefined) => (await import("./login-action.js")).logout(server));
}
