/**
 * Access requests and scopes, as distribution's token auth spells them:
 * `repository:samalba/my-app:pull,push`, `registry:catalog:*`. A name may contain
 * `host:port`, so a scope is split at its first and last colon only.
 */
import type { IncomingMessage } from "node:http";

export type Action = "pull" | "push" | "delete" | "*";

export interface Access {
  type: "repository" | "registry";
  name: string;
  actions: string[];
}

export function formatScope(a: Access): string {
  return `${a.type}:${a.name}:${a.actions.join(",")}`;
}

/** Parses one scope; undefined when it is malformed. */
export function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, "");
  if (type !== "repository" && type !== "registry") return undefined;
  const name = scope.slice(first + 1, last);
  const actions = scope.slice(last + 1).split(",").filter((x) => x !== "");
  if (name === "" || actions.length === 0) return undefined;
  return { type, name, actions };
}

/** True when `granted` covers every action of `wanted` (`*` covers all). */
export function covers(granted: Access[], wanted: Access): boolean {
  const have = new Set<string>();
  for (const g of granted) if (g.type === wanted.type && g.name === wanted.name) for (const a of g.actions) have.add(a);
  return have.has("*") || wanted.actions.every((a) => have.has(a));
}

/** Who made a request, once authenticated. */
export interface Identity {
  /** undefined for an anonymous caller */
  user: string | undefined;
}

/**
 * Decides whether a request may have `access`. Throws a RegistryError: UNAUTHORIZED
 * (401, with the WWW-Authenticate challenge in its headers) when credentials are
 * missing or wrong, DENIED (403) when they are fine but too weak.
 */
export interface Authorizer {
  authorize(req: IncomingMessage, access: Access[]): Promise<Identity>;
}

/** No authentication: everyone may do everything (the default on loopback). */
export const allowAll: Authorizer = {
  authorize: () => Promise.resolve({ user: undefined }),
};
