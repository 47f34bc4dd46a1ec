/** What the client's operations share: the transport, the endpoint and the names they use in messages. */
import type { Clock } from "../../clock/index.js";
import { InvalidArgumentError } from "../../errdefs/index.js";
import { parseDigest, type Digest } from "../../oci/index.js";
import { validateRepositoryName, validateTag } from "../../reference/index.js";
import { dockerHubRepository } from "./endpoint.js";
import type { RetryPolicy } from "./retry.js";
import type { Transport } from "./transport.js";

export interface ClientContext {
  readonly transport: Transport;
  readonly baseUrl: URL;
  /** the registry host as the user named it, for messages */
  readonly host: string;
  readonly dockerHub: boolean;
  readonly clock: Clock;
  readonly retry: RetryPolicy;
}

/** The repository path the registry knows, validated (Docker Hub: `alpine` → `library/alpine`). */
export function repositoryName(ctx: ClientContext, repo: string): string {
  const name = ctx.dockerHub ? dockerHubRepository(repo) : repo;
  validateRepositoryName(name);
  return name;
}

/** A manifest reference: a digest (validated) or a tag (validated). */
export function manifestRef(ref: string): { tag: string } | { digest: Digest } {
  if (ref.includes(":")) return { digest: parseDigest(ref) };
  validateTag(ref);
  return { tag: ref };
}

/** `library/x:tag` or `library/x@sha256:…`. */
export function displayRef(repo: string, ref: string): string {
  return ref.includes(":") ? `${repo}@${ref}` : `${repo}:${ref}`;
}

export function pullScope(repo: string): string {
  return `repository:${repo}:pull`;
}

export function pushScope(repo: string): string {
  return `repository:${repo}:pull,push`;
}

/** An API URL on this registry from a route path (and query). */
export function apiUrl(ctx: ClientContext, path: string, query: Record<string, string> = {}): URL {
  const url = new URL(path, ctx.baseUrl);
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
  return url;
}

/** Resolves a Location header against the request URL; it must be there. */
export function locationOf(res: Response, requestUrl: URL, host: string): URL {
  const location = res.headers.get("location");
  if (location === null || location === "") throw new InvalidArgumentError(`registry ${host} answered ${res.status} without a Location header`);
  return new URL(location, requestUrl);
}

/** Adds `digest=` to an upload Location, keeping its own query (e.g. `_state=`) byte for byte. */
export function withDigestParam(location: URL, digest: Digest): URL {
  const href = location.href.split("#")[0] ?? "";
  const sep = href.endsWith("?") ? "" : location.search === "" ? "?" : "&";
  return new URL(`${href}${sep}digest=${encodeURIComponent(digest)}`);
}
