/**
 * From a CRI AuthConfig to the credentials of one pull (containerd's `ParseAuth`):
 * username and password first, then an identity token, then `auth`. Credentials for
 * another registry than the image's (`serverAddress`) are not used.
 */
import { InvalidArgumentError } from "../errdefs/index.js";
import { IDENTITY_TOKEN_USERNAME } from "../registry/client/index.js";
import type { AuthConfig } from "./cri.js";
import type { RegistryCredentials } from "./types.js";

/** The host[:port] of a server address written as a URL or as a bare host. */
function hostOf(serverAddress: string): string {
  try {
    return new URL(serverAddress.includes("://") ? serverAddress : `https://${serverAddress}`).host;
  } catch {
    return serverAddress;
  }
}

/** The registry host `docker.io` is also called by in auth configs. */
const DOCKER_HUB_ALIASES = new Set(["index.docker.io", "registry-1.docker.io", "docker.io"]);

function sameRegistry(a: string, b: string): boolean {
  return a === b || (DOCKER_HUB_ALIASES.has(a) && DOCKER_HUB_ALIASES.has(b));
}

/** The credentials `auth` gives for `registry` (the image's host), or undefined for none (anonymous, or the node's logins). */
export function parseAuth(auth: AuthConfig | undefined, registry: string): RegistryCredentials | undefined {
  if (auth === undefined) return undefined;
  if (auth.serverAddress !== undefined && auth.serverAddress !== "" && !sameRegistry(hostOf(auth.serverAddress), registry)) return undefined;
  if (auth.username !== undefined && auth.username !== "") return { username: auth.username, password: auth.password ?? "" };
  if (auth.identityToken !== undefined && auth.identityToken !== "") return { username: IDENTITY_TOKEN_USERNAME, password: auth.identityToken };
  if (auth.auth !== undefined && auth.auth !== "") {
    const decoded = Buffer.from(auth.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw new InvalidArgumentError(`auth config for ${registry}: auth must be base64 of "username:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, "") };
  }
  return undefined;
}
