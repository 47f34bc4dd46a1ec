/**
 * Bearer token authorization, as distribution's `token` access controller: the
 * registry verifies each `Authorization: Bearer <jwt>` offline and checks that its
 * `access` claim covers the request. Every failure is a 401 whose challenge sends the
 * client to the token server (`realm`) for the scopes it needs:
 *
 *   Bearer realm="https://host/auth/token",service="podyard",scope="repository:app:pull,push"
 *
 * plus `error="invalid_token"` for a bad or expired token and
 * `error="insufficient_scope"` for a good token without the rights; containerd and
 * containers/image fetch a new token and retry when they see `error=`.
 */
import type { IncomingMessage } from "node:http";
import type { KeyObject } from "node:crypto";
import { realClock, type Clock } from "../../../clock/index.js";
import { RegistryError } from "../errcode.js";
import { covers, formatScope, type Access, type Authorizer, type Identity } from "./access.js";
import { quote } from "./basic-authorizer.js";
import { verifyToken, type TokenClaims } from "./token.js";

/** The token server's URL; a function when it is known only once the server listens. */
export type Realm = string | ((req: IncomingMessage) => string);

export interface TokenAuthorizerOptions {
  realm: Realm;
  /** this registry's name in the token's `aud` and the challenge's `service` */
  service: string;
  /** the trusted `iss` */
  issuer: string;
  /** trusted signing keys; or pass `verify` */
  publicKey?: KeyObject | readonly KeyObject[];
  /** verifies a token and returns its claims, throwing when it is not acceptable */
  verify?: (token: string) => TokenClaims;
  clock?: Clock;
  leewaySeconds?: number;
}

type ChallengeError = "invalid_token" | "insufficient_scope";

export class TokenAuthorizer implements Authorizer {
  readonly #realm: Realm;
  readonly #service: string;
  readonly #verify: (token: string) => TokenClaims;

  constructor(opts: TokenAuthorizerOptions) {
    this.#realm = opts.realm;
    this.#service = opts.service;
    if (opts.verify) {
      this.#verify = opts.verify;
    } else if (opts.publicKey) {
      const keys = opts.publicKey;
      const clock = opts.clock ?? realClock;
      this.#verify = (token) =>
        verifyToken(token, { keys, issuer: opts.issuer, audience: opts.service, clock, leewaySeconds: opts.leewaySeconds ?? 0 });
    } else {
      throw new TypeError("TokenAuthorizer: pass publicKey or verify");
    }
  }

  authorize(req: IncomingMessage, access: Access[]): Promise<Identity> {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? "");
    if (!m) return Promise.reject(this.#challenge(req, access, undefined, "authentication required"));
    let claims: TokenClaims;
    try {
      claims = this.#verify(m[1] ?? "");
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return Promise.reject(this.#challenge(req, access, "invalid_token", `invalid token: ${reason}`, err));
    }
    const missing = access.filter((a) => !covers(claims.access, a));
    if (missing.length > 0) {
      return Promise.reject(this.#challenge(req, access, "insufficient_scope", `token does not grant ${missing.map(formatScope).join(" ")}`));
    }
    return Promise.resolve({ user: claims.sub === "" ? undefined : claims.sub });
  }

  #challenge(req: IncomingMessage, access: Access[], error: ChallengeError | undefined, message: string, cause?: unknown): RegistryError {
    const realm = typeof this.#realm === "string" ? this.#realm : this.#realm(req);
    let header = `Bearer realm=${quote(realm)},service=${quote(this.#service)}`;
    const scope = scopeParam(access);
    if (scope !== "") header += `,scope=${quote(scope)}`;
    if (error) header += `,error=${quote(error)}`;
    // distribution details each access record the request needed
    const detail = access.flatMap((a) => a.actions.map((action) => ({ Type: a.type, Class: "", Name: a.name, Action: action })));
    return new RegistryError("UNAUTHORIZED", message, {
      headers: { "WWW-Authenticate": header },
      ...(detail.length > 0 ? { detail } : {}),
      ...(cause !== undefined ? { cause } : {}),
    });
  }
}

/** The challenge's `scope`: one scope per resource, actions merged, space-separated. */
export function scopeParam(access: Access[]): string {
  const merged = new Map<string, Access>();
  for (const a of access) {
    const key = `${a.type}\0${a.name}`;
    const have = merged.get(key);
    if (have) for (const x of a.actions) { if (!have.actions.includes(x)) have.actions.push(x); }
    else merged.set(key, { type: a.type, name: a.name, actions: [...a.actions] });
  }
  return [...merged.values()].map(formatScope).join(" ");
}
