/**
 * The token server of distribution's token auth (what auth.docker.io runs), small
 * enough to live next to the registry as an extra route:
 *
 * - `GET <realm>?service=&scope=&scope=&account=&offline_token=&client_id=`, with
 *   optional Basic credentials (Docker, containers/image, containerd anonymously);
 * - `POST <realm>` with an OAuth2 form: `grant_type=password|refresh_token`,
 *   `service`, `client_id`, `scope` (space-separated), `access_type=offline`,
 *   `username`/`password` or `refresh_token` (containerd with a secret,
 *   containers/image with an identity token).
 *
 * Wrong credentials get 401. Otherwise the caller always gets a token, carrying the
 * requested access intersected with what it may do (possibly nothing): the registry,
 * not the token server, turns missing rights into errors.
 */
import type { KeyObject } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { realClock, type Clock } from "../../../clock/index.js";
import { InvalidArgumentError } from "../../../errdefs/index.js";
import { errorBody, RegistryError } from "../errcode.js";
import { publicError } from "../public-error.js";
import { formatScope, parseScope, type Access } from "./access.js";
import { parseBasicAuth, quote } from "./basic-authorizer.js";
import type { Htpasswd } from "./htpasswd.js";
import { TokenAuthorizer, type Realm } from "./token-authorizer.js";
import { newTokenID, REFRESH_TOKEN_TYPE, TokenSigner, verifyToken, type TokenSignerOptions } from "./token.js";

export const DEFAULT_TOKEN_TTL_SECONDS = 300;
export const DEFAULT_REFRESH_TTL_SECONDS = 30 * 24 * 3600;
/** Clients treat shorter `expires_in` as 60 s (containers/image, docker), so shorter tokens would fail. */
const MIN_TOKEN_TTL_SECONDS = 60;
const MAX_FORM_BYTES = 64 * 1024;

export interface TokenServerOptions {
  signer: TokenSigner;
  /** the registry's name: the `aud` of access tokens */
  service: string;
  /** the `iss` of every token */
  issuer: string;
  /** users who may log in; without it only anonymous tokens are issued */
  htpasswd?: Htpasswd;
  /** whether anonymous callers get `pull` on every repository */
  anonymousPull: boolean;
  clock?: Clock;
  ttlSeconds?: number;
  refreshTtlSeconds?: number;
}

/** The JSON a token request gets. */
export interface TokenResponse {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  /** OAuth2 (POST) only: the granted scopes, space-separated */
  scope?: string;
}

/**
 * What a caller may have of what it asked for: authenticated users get pull, push and
 * delete on every repository and the catalog; anonymous callers get pull when
 * `anonymousPull` is on. Unknown actions and resources are dropped, never an error.
 */
export function grantAccess(requested: Access[], who: { user: string | undefined; anonymousPull: boolean }): Access[] {
  const granted = new Map<string, Access>();
  for (const r of requested) {
    const allowed = allowedActions(r, who);
    const actions = r.actions.filter((a) => allowed.has(a));
    if (actions.length === 0) continue;
    const key = `${r.type}\0${r.name}`;
    const have = granted.get(key);
    if (have) for (const a of actions) { if (!have.actions.includes(a)) have.actions.push(a); }
    else granted.set(key, { type: r.type, name: r.name, actions: [...new Set(actions)] });
  }
  return [...granted.values()];
}

function allowedActions(r: Access, who: { user: string | undefined; anonymousPull: boolean }): Set<string> {
  if (r.type === "repository") {
    if (who.user !== undefined) return new Set(["pull", "push", "delete", "*"]);
    return new Set(who.anonymousPull ? ["pull"] : []);
  }
  if (r.type === "registry" && r.name === "catalog" && who.user !== undefined) return new Set(["*"]);
  return new Set();
}

export class TokenServer {
  readonly #signer: TokenSigner;
  readonly #service: string;
  readonly #issuer: string;
  readonly #htpasswd: Htpasswd | undefined;
  readonly #anonymousPull: boolean;
  readonly #clock: Clock;
  readonly #ttl: number;
  readonly #refreshTtl: number;

  constructor(opts: TokenServerOptions) {
    this.#signer = opts.signer;
    this.#service = opts.service;
    this.#issuer = opts.issuer;
    this.#htpasswd = opts.htpasswd;
    this.#anonymousPull = opts.anonymousPull;
    this.#clock = opts.clock ?? realClock;
    this.#ttl = opts.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    this.#refreshTtl = opts.refreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS;
    if (!Number.isInteger(this.#ttl) || this.#ttl < MIN_TOKEN_TTL_SECONDS) {
      throw new InvalidArgumentError(`token lifetime ${this.#ttl} s: must be a whole number of seconds, at least ${MIN_TOKEN_TTL_SECONDS}`);
    }
    if (!Number.isInteger(this.#refreshTtl) || this.#refreshTtl < this.#ttl) {
      throw new InvalidArgumentError(`refresh token lifetime ${this.#refreshTtl} s: must be a whole number of seconds, at least the token lifetime`);
    }
  }

  /** The node:http handler for the realm URL (GET and POST). */
  readonly handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      let body: TokenResponse;
      if (req.method === "GET" || req.method === "HEAD") {
        req.resume();
        body = await this.#get(req, new URL(req.url ?? "/", "http://token.invalid").searchParams);
      } else if (req.method === "POST") {
        body = await this.#post(new URLSearchParams(await readForm(req)));
      } else {
        req.resume();
        throw new RegistryError("UNSUPPORTED", `${req.method} is not supported by the token endpoint`, { headers: { Allow: "GET, HEAD, POST" } });
      }
      const text = JSON.stringify(body);
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(text),
        "Cache-Control": "no-store",
        Pragma: "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : text);
    } catch (err) {
      const e = publicError(err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const text = errorBody(e);
      res.writeHead(e.status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), "Cache-Control": "no-store", ...e.headers });
      res.end(req.method === "HEAD" ? undefined : text);
    }
  };

  /** `GET <realm>?service=&scope=...` with optional Basic credentials. */
  async #get(req: IncomingMessage, q: URLSearchParams): Promise<TokenResponse> {
    this.#checkService(q);
    const creds = parseBasicAuth(req.headers.authorization);
    if (creds === "malformed") throw this.#unauthorized("malformed Basic credentials");
    let user: string | undefined;
    if (creds !== undefined) {
      if (!(await this.#checkPassword(creds.user, creds.password))) throw this.#unauthorized("invalid username or password");
      user = creds.user;
    }
    const offline = q.get("offline_token") === "true" && user !== undefined;
    return this.#issue(user, parseScopes(q.getAll("scope")), { refresh: offline, oauth: false });
  }

  /** The OAuth2 form: `grant_type=password` or `grant_type=refresh_token`. */
  async #post(form: URLSearchParams): Promise<TokenResponse> {
    this.#checkService(form);
    const grant = form.get("grant_type");
    let user: string;
    if (grant === "password") {
      const username = form.get("username");
      const password = form.get("password");
      if (username === null || password === null) throw badRequest("grant_type=password needs username and password");
      if (!(await this.#checkPassword(username, password))) throw this.#unauthorized("invalid username or password");
      user = username;
    } else if (grant === "refresh_token") {
      const token = form.get("refresh_token");
      if (token === null) throw badRequest("grant_type=refresh_token needs refresh_token");
      user = this.#checkRefreshToken(token);
    } else {
      throw badRequest(`unsupported grant_type ${JSON.stringify(grant)}: use password or refresh_token`);
    }
    return this.#issue(user, parseScopes(form.getAll("scope")), { refresh: form.get("access_type") === "offline", oauth: true });
  }

  #issue(user: string | undefined, requested: Access[], opts: { refresh: boolean; oauth: boolean }): TokenResponse {
    const nowMs = this.#clock.now();
    const iat = Math.floor(nowMs / 1000);
    const access = grantAccess(requested, { user, anonymousPull: this.#anonymousPull });
    const token = this.#signer.sign({
      iss: this.#issuer,
      sub: user ?? "",
      aud: this.#service,
      exp: iat + this.#ttl,
      nbf: iat,
      iat,
      jti: newTokenID(),
      access,
    });
    const out: TokenResponse = { token, access_token: token, expires_in: this.#ttl, issued_at: new Date(iat * 1000).toISOString() };
    if (opts.refresh && user !== undefined) {
      out.refresh_token = this.#signer.sign(
        { iss: this.#issuer, sub: user, aud: this.#issuer, exp: iat + this.#refreshTtl, nbf: iat, iat, jti: newTokenID() },
        REFRESH_TOKEN_TYPE,
      );
    }
    if (opts.oauth) out.scope = access.map(formatScope).join(" ");
    return out;
  }

  #checkService(q: URLSearchParams): void {
    const service = q.get("service");
    if (service !== null && service !== "" && service !== this.#service) {
      throw badRequest(`unknown service ${JSON.stringify(service)}: this token server serves ${JSON.stringify(this.#service)}`);
    }
  }

  async #checkPassword(user: string, password: string): Promise<boolean> {
    return this.#htpasswd !== undefined && this.#htpasswd.verify(user, password);
  }

  /** The user a refresh token was issued to; 401 when it is not valid or the user is gone. */
  #checkRefreshToken(token: string): string {
    let sub: string;
    try {
      sub = verifyToken(token, {
        keys: this.#signer.publicKey,
        issuer: this.#issuer,
        audience: this.#issuer,
        clock: this.#clock,
        typ: REFRESH_TOKEN_TYPE,
      }).sub;
    } catch (err) {
      throw this.#unauthorized(`invalid refresh token: ${(err as Error).message}`, err);
    }
    if (sub === "" || !this.#htpasswd?.has(sub)) throw this.#unauthorized("invalid refresh token: its user no longer exists");
    return sub;
  }

  #unauthorized(message: string, cause?: unknown): RegistryError {
    return new RegistryError("UNAUTHORIZED", message, {
      headers: { "WWW-Authenticate": `Basic realm=${quote(this.#service)}` },
      ...(cause !== undefined ? { cause } : {}),
    });
  }
}

/** Scope parameters (one per scope, or several space-separated in one); malformed ones are ignored. */
function parseScopes(params: string[]): Access[] {
  const out: Access[] = [];
  for (const p of params) {
    for (const s of p.split(" ")) {
      if (s === "") continue;
      const a = parseScope(s);
      if (a) out.push(a);
    }
  }
  return out;
}

function badRequest(message: string): RegistryError {
  return new RegistryError("QUERY_PARAMETER_INVALID", message);
}

async function readForm(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) {
      req.resume();
      throw new RegistryError("QUERY_PARAMETER_INVALID", `token request form is larger than ${MAX_FORM_BYTES} bytes`, { status: 413 });
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export interface TokenAuthOptions {
  /** the full URL of the token endpoint (or a function giving it per request) */
  realm: Realm;
  /** the registry's name (token `aud`, challenge `service`) */
  service: string;
  /** the `iss` of tokens (default "podyard-token-server") */
  issuer?: string;
  htpasswd?: Htpasswd;
  anonymousPull: boolean;
  clock?: Clock;
  /** access token lifetime (default 300 s, at least 60) */
  ttlSeconds?: number;
  refreshTtlSeconds?: number;
  /** the signing key: PEM text or a KeyObject (EC P-256); a fresh one per process when absent */
  signingKey?: string | Buffer | KeyObject;
  /** the `kid` form, and a certificate chain for `x5c`, for registries that trust certificates (distribution 2.x) */
  kidFormat?: TokenSignerOptions["kidFormat"];
  x5c?: TokenSignerOptions["x5c"];
}

export interface TokenAuth {
  authorizer: TokenAuthorizer;
  /** mount as `extraRoutes: { "/auth/token": tokenEndpoint }` */
  tokenEndpoint: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
}

/** A token server and the authorizer that trusts it, sharing one key. */
export function createTokenAuth(opts: TokenAuthOptions): TokenAuth {
  const signerOpts: TokenSignerOptions = {
    ...(opts.kidFormat !== undefined ? { kidFormat: opts.kidFormat } : {}),
    ...(opts.x5c !== undefined ? { x5c: opts.x5c } : {}),
  };
  const signer =
    opts.signingKey === undefined ? TokenSigner.generate(signerOpts)
    : typeof opts.signingKey === "string" || Buffer.isBuffer(opts.signingKey) ? TokenSigner.fromPem(opts.signingKey, signerOpts)
    : new TokenSigner(opts.signingKey, signerOpts);
  const issuer = opts.issuer ?? "podyard-token-server";
  const clock = opts.clock ?? realClock;
  const server = new TokenServer({
    signer,
    service: opts.service,
    issuer,
    anonymousPull: opts.anonymousPull,
    clock,
    htpasswd: opts.htpasswd,
    ttlSeconds: opts.ttlSeconds,
    refreshTtlSeconds: opts.refreshTtlSeconds,
  });
  const authorizer = new TokenAuthorizer({ realm: opts.realm, service: opts.service, issuer, publicKey: signer.publicKey, clock });
  return { authorizer, tokenEndpoint: server.handle };
}

