/**
 * Authorization state for one registry host (containerd's docker/authorizer.go).
 * Nothing is sent until the registry challenges. After a Basic challenge every
 * request carries the credentials; after a Bearer challenge each request carries a
 * token for its scopes, fetched once per scope set (concurrent requests share the
 * fetch) and reused until it expires. A 401 to a request that carried a token
 * (`error="insufficient_scope"` or `"invalid_token"`) drops that token; the transport
 * then retries once. Credentials holding an identity token (user `<token>`) are traded
 * for Bearer tokens with an OAuth2 refresh_token POST (`token.ts`); they are never sent
 * as Basic credentials.
 */
import type { Clock } from "../../clock/index.js";
import { bearerChallenge, hasBasicChallenge, parseChallenges } from "./challenge.js";
import { basicAuthorization, fetchToken, isIdentityToken, type BearerToken } from "./token.js";
import type { Credentials, FetchLike } from "./types.js";

export interface AuthorizerOptions {
  /** the registry host, for messages */
  host: string;
  credentials?: Credentials | undefined;
  fetch: FetchLike;
  clock: Clock;
}

type Scheme = { kind: "basic" } | { kind: "bearer"; realm: string; service: string | undefined };

/** What to do after a 401. */
export interface UnauthorizedVerdict {
  /** true when repeating the request with fresh authorization can succeed */
  retry: boolean;
  /** the scopes to ask for: the request's plus any the challenge named */
  scopes: string[];
}

/**
 * Merges scopes on the same resource: `repository:a:pull` and `repository:a:pull,push`
 * become `repository:a:pull,push`. A name may hold `host:port`, so a scope is split at
 * its first and last colon. Sorted, so equal sets make equal cache keys.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  const opaque = new Set<string>();
  for (const scope of scopes) {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    if (first <= 0 || last === first) {
      opaque.add(scope);
      continue;
    }
    const resource = scope.slice(0, last);
    const actions = byResource.get(resource) ?? new Set<string>();
    for (const a of scope.slice(last + 1).split(",")) if (a !== "") actions.add(a);
    byResource.set(resource, actions);
  }
  const merged = [...byResource].map(([resource, actions]) => `${resource}:${[...actions].sort().join(",")}`);
  return [...merged, ...opaque].sort();
}

/** A token this close to its expiry is not used any more. */
const EXPIRY_MARGIN_MS = 5_000;

export class Authorizer {
  readonly #opts: AuthorizerOptions;
  #scheme: Scheme | undefined;
  readonly #tokens = new Map<string, BearerToken>();
  readonly #pending = new Map<string, Promise<BearerToken>>();

  constructor(opts: AuthorizerOptions) {
    this.#opts = opts;
  }

  /** The Authorization header for a request that needs `scopes`; undefined before any challenge. */
  async authorization(scopes: readonly string[]): Promise<string | undefined> {
    const scheme = this.#scheme;
    if (!scheme) return undefined;
    if (scheme.kind === "basic") {
      const basic = this.#basicCredentials();
      return basic ? basicAuthorization(basic) : undefined;
    }
    return `Bearer ${(await this.#token(scheme, scopes)).token}`;
  }

  /** Learns the scheme from a 401's challenges; `sent` is the Authorization the request carried. */
  onUnauthorized(res: Response, scopes: readonly string[], sent: string | undefined): UnauthorizedVerdict {
    const challenges = parseChallenges(res.headers.get("www-authenticate"));
    const bearer = bearerChallenge(challenges);
    if (bearer) {
      const merged = mergeScopes([...scopes, ...bearer.scopes]);
      this.#scheme = { kind: "bearer", realm: bearer.realm, service: bearer.service };
      if (sent?.startsWith("Bearer ")) {
        // the token was not good enough (insufficient_scope, invalid_token, expired): forget it
        this.#tokens.delete(this.#key(this.#scheme, scopes));
        this.#tokens.delete(this.#key(this.#scheme, merged));
      }
      return { retry: true, scopes: merged };
    }
    if (hasBasicChallenge(challenges)) {
      this.#scheme = { kind: "basic" };
      return { retry: this.#basicCredentials() !== undefined && !sent?.startsWith("Basic "), scopes: [...scopes] };
    }
    return { retry: false, scopes: [...scopes] };
  }

  /** The credentials Basic may carry: not an identity token, which only a token server understands. */
  #basicCredentials(): Credentials | undefined {
    const c = this.#opts.credentials;
    return c && !isIdentityToken(c) ? c : undefined;
  }

  #key(s: Extract<Scheme, { kind: "bearer" }>, scopes: readonly string[]): string {
    return `${s.realm}\n${s.service ?? ""}\n${mergeScopes(scopes).join(" ")}`;
  }

  async #token(s: Extract<Scheme, { kind: "bearer" }>, scopes: readonly string[]): Promise<BearerToken> {
    const key = this.#key(s, scopes);
    const now = this.#opts.clock.now();
    const cached = this.#tokens.get(key);
    if (cached && now < cached.expiresAt - EXPIRY_MARGIN_MS) return cached;
    let pending = this.#pending.get(key);
    if (!pending) {
      const req = { realm: s.realm, service: s.service, scopes: mergeScopes(scopes), credentials: this.#opts.credentials, host: this.#opts.host };
      pending = fetchToken(req, this.#opts)
        .then((token) => {
          this.#prune(now);
          this.#tokens.set(key, token);
          return token;
        })
        .finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  #prune(now: number): void {
    for (const [k, t] of this.#tokens) if (t.expiresAt <= now) this.#tokens.delete(k);
  }
}
