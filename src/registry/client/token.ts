/**
 * Fetching a Bearer token from a registry's token server (distribution's token auth,
 * what Docker Hub runs): `GET <realm>?service=…&scope=…&scope=…`, with Basic credentials
 * when there are any and anonymously otherwise. Credentials holding an identity token
 * (user name `<token>`, as Docker keeps them) are traded with the OAuth2 form instead:
 * `POST <realm>` `grant_type=refresh_token&refresh_token=…&service=…&scope=…&client_id=podyard`.
 */
import type { Clock } from "../../clock/index.js";
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from "../../errdefs/index.js";
import { readLimited } from "./body.js";
import { errorForStatus } from "./errors.js";
import { networkErrorText } from "./retry.js";
import type { Credentials, FetchLike } from "./types.js";

export interface BearerToken {
  token: string;
  /** ms since the epoch, on the client's clock */
  expiresAt: number;
}

export interface TokenRequest {
  realm: string;
  service: string | undefined;
  scopes: readonly string[];
  credentials: Credentials | undefined;
  /** the registry host, for messages */
  host: string;
}

/** The user name Docker gives credentials whose password is an identity (refresh) token. */
export const IDENTITY_TOKEN_USERNAME = "<token>";
/** The `client_id` podyard names itself with in OAuth2 token requests. */
export const OAUTH_CLIENT_ID = "podyard";

/** True when `c` carries an identity token rather than a password. */
export function isIdentityToken(c: Credentials | undefined): boolean {
  return c?.username === IDENTITY_TOKEN_USERNAME;
}

/** Docker's minimum token lifetime: a shorter or missing `expires_in` counts as 60 s. */
export const MIN_TOKEN_LIFETIME_S = 60;
const MAX_TOKEN_RESPONSE_BYTES = 1 << 20;

export function basicAuthorization(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, "utf8").toString("base64")}`;
}

/** The token server URL with one `scope` parameter per scope. */
export function tokenUrl(req: Pick<TokenRequest, "realm" | "service" | "scopes" | "credentials" | "host">): URL {
  let url: URL;
  try {
    url = new URL(req.realm);
  } catch {
    throw new InvalidArgumentError(`registry ${req.host} sent an invalid token realm ${JSON.stringify(req.realm)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InvalidArgumentError(`registry ${req.host} sent a token realm that is not http(s): ${req.realm}`);
  }
  if (req.service !== undefined) url.searchParams.set("service", req.service);
  for (const scope of req.scopes) url.searchParams.append("scope", scope);
  if (req.credentials && !isIdentityToken(req.credentials)) url.searchParams.set("account", req.credentials.username);
  return url;
}

/** Reads the token and its lifetime (`issued_at` + `expires_in`) from a token server's JSON. */
export function parseTokenResponse(body: unknown, now: number): BearerToken | undefined {
  if (typeof body !== "object" || body === null) return undefined;
  const b = body as Record<string, unknown>;
  const token = typeof b.token === "string" && b.token !== "" ? b.token : typeof b.access_token === "string" ? b.access_token : "";
  if (token === "") return undefined;
  const expiresIn = typeof b.expires_in === "number" && b.expires_in >= MIN_TOKEN_LIFETIME_S ? b.expires_in : MIN_TOKEN_LIFETIME_S;
  const issued = typeof b.issued_at === "string" ? Date.parse(b.issued_at) : Number.NaN;
  return { token, expiresAt: (Number.isNaN(issued) ? now : issued) + expiresIn * 1000 };
}

/** The OAuth2 form that trades an identity (refresh) token for an access token. */
function refreshTokenForm(req: TokenRequest, refreshToken: string): string {
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: refreshToken, client_id: OAUTH_CLIENT_ID });
  if (req.service !== undefined) form.set("service", req.service);
  if (req.scopes.length > 0) form.set("scope", req.scopes.join(" "));
  return form.toString();
}

/**
 * The token server (the registry's realm, often another host) could not be reached: the
 * registry itself answered, so this is not "registry … is unreachable".
 */
export class TokenServerUnreachableError extends UnavailableError {}

export async function fetchToken(req: TokenRequest, deps: { fetch: FetchLike; clock: Clock }): Promise<BearerToken> {
  let url = tokenUrl(req);
  let who = req.credentials ? `the credentials of ${req.credentials.username}` : "anonymous access";
  let init: RequestInit = { headers: { Accept: "application/json", ...(req.credentials ? { Authorization: basicAuthorization(req.credentials) } : {}) } };
  if (req.credentials && isIdentityToken(req.credentials)) {
    url = new URL(req.realm); // checked by tokenUrl; the parameters go in the form
    who = "the identity token";
    init = { method: "POST", headers: { Accept: "application/json", "Content-Type": "application/x-www-form-urlencoded" }, body: refreshTokenForm(req, req.credentials.password) };
  }
  let res: Response;
  try {
    res = await deps.fetch(url, init);
  } catch (err) {
    throw new TokenServerUnreachableError(`cannot reach token server ${url.host} for registry ${req.host}: ${networkErrorText(err)}`, { cause: err });
  }
  const text = (await readLimited(res, MAX_TOKEN_RESPONSE_BYTES)).toString("utf8");
  if (res.status === 401) {
    throw new UnauthenticatedError(`unauthorized: token server ${url.host} refused ${who} for registry ${req.host}; check the credentials${isIdentityToken(req.credentials) ? " or log in again" : ""}`);
  }
  if (!res.ok) {
    throw errorForStatus(res.status, `token server ${url.host} answered ${res.status} ${res.statusText} to a token request for registry ${req.host}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const token = parseTokenResponse(body, deps.clock.now());
  if (!token) throw new UnavailableError(`token server ${url.host} sent no token for registry ${req.host}`);
  return token;
}
