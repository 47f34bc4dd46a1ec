/**
 * HTTP Basic authentication against an htpasswd file (distribution's `htpasswd`
 * access controller). Clients send `Authorization: Basic` on every request; any
 * user in the file may do everything. Use it over TLS or on loopback only.
 */
import type { IncomingMessage } from "node:http";
import { RegistryError } from "../errcode.js";
import type { Access, Authorizer, Identity } from "./access.js";
import type { Htpasswd } from "./htpasswd.js";

export interface BasicCredentials {
  user: string;
  password: string;
}

/**
 * The credentials of an `Authorization: Basic` header; undefined when the header is
 * absent or another scheme, "malformed" when it is Basic but cannot be decoded.
 */
export function parseBasicAuth(header: string | undefined): BasicCredentials | "malformed" | undefined {
  if (header === undefined) return undefined;
  const m = /^Basic[ \t]+([A-Za-z0-9+/=_-]*)[ \t]*$/i.exec(header);
  if (!m) return /^Basic(\s|$)/i.test(header) ? "malformed" : undefined;
  const decoded = Buffer.from(m[1] ?? "", "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return "malformed";
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A challenge parameter value as a quoted-string (RFC 9110 §5.6.4). */
export function quote(value: string): string {
  return `"${value.replace(/["\\]/g, "\\$&")}"`;
}

export interface BasicAuthorizerOptions {
  htpasswd: Htpasswd;
  /** the realm named in the challenge, e.g. "podyard" */
  realm: string;
}

export class BasicAuthorizer implements Authorizer {
  readonly #htpasswd: Htpasswd;
  readonly #challenge: string;

  constructor(opts: BasicAuthorizerOptions) {
    this.#htpasswd = opts.htpasswd;
    this.#challenge = `Basic realm=${quote(opts.realm)}`;
  }

  async authorize(req: IncomingMessage, _access: Access[]): Promise<Identity> {
    const creds = parseBasicAuth(req.headers.authorization);
    if (creds === undefined) throw this.#unauthorized("authentication required");
    if (creds === "malformed") throw this.#unauthorized("malformed Basic credentials");
    if (!(await this.#htpasswd.verify(creds.user, creds.password))) throw this.#unauthorized("invalid username or password");
    return { user: creds.user };
  }

  #unauthorized(message: string): RegistryError {
    return new RegistryError("UNAUTHORIZED", message, { headers: { "WWW-Authenticate": this.#challenge } });
  }
}
