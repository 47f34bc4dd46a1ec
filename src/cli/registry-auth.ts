/** Builds the registry's authorizer from the serve flags: none, Basic (htpasswd) or Bearer tokens. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidArgumentError } from "../errdefs/index.js";
import { BasicAuthorizer, createTokenAuth, Htpasswd, type Authorizer, type Realm } from "../registry/server/index.js";
import { readFlagFile } from "./flag-file.js";

export interface RegistryAuthFlags {
  htpasswd?: string;
  tokenAuth: boolean;
  /** the token endpoint's URL; by default built from the Host header the client used */
  realm: string | undefined;
  scheme: "http" | "https";
  service: string;
  anonymousPull: boolean;
}

export interface RegistryAuth {
  authorizer: Authorizer;
  extraRoutes?: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
}

/** The path of the built-in token endpoint. */
export const TOKEN_PATH = "/auth/token";

export async function registryAuth(flags: RegistryAuthFlags): Promise<RegistryAuth | undefined> {
  if (flags.anonymousPull && !flags.tokenAuth) throw new InvalidArgumentError("--anonymous-pull needs --token-auth");
  if (!flags.htpasswd && !flags.tokenAuth) return undefined;
  const htpasswd = flags.htpasswd ? Htpasswd.parse((await readFlagFile("--htpasswd", flags.htpasswd)).toString("utf8"), { source: flags.htpasswd }) : undefined;
  if (!flags.tokenAuth) {
    if (!htpasswd) return undefined;
    return { authorizer: new BasicAuthorizer({ htpasswd, realm: flags.service }) };
  }
  const realm: Realm = flags.realm ?? ((req: IncomingMessage) => `${flags.scheme}://${req.headers.host ?? "localhost"}${TOKEN_PATH}`);
  const auth = createTokenAuth({
    realm,
    service: flags.service,
    anonymousPull: flags.anonymousPull,
    ...(htpasswd ? { htpasswd } : {}),
  });
  return { authorizer: auth.authorizer, extraRoutes: { [TOKEN_PATH]: auth.tokenEndpoint } };
}
