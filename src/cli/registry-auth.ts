/** Builds the registry's authorizer from the serve flags. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Authorizer } from "../registry/server/index.js";

export interface RegistryAuthFlags {
  htpasswd?: string;
  tokenAuth: boolean;
  realm: string;
  service: string;
  anonymousPull: boolean;
}

export interface RegistryAuth {
  authorizer: Authorizer;
  extraRoutes?: Record<string, (req: IncomingMessage, res: ServerResponse) => Promise<void>>;
}

export async function registryAuth(flags: RegistryAuthFlags): Promise<RegistryAuth | undefined> {
  if (!flags.htpasswd && !flags.tokenAuth) return undefined;
  throw new Error("authentication is not wired yet");
}
