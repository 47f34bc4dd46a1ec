/**
 * Registry bearer tokens: compact JWS (JWT) signed with ES256, as distribution's
 * token auth expects. Header `{"alg":"ES256","typ":"JWT","kid":...}` where `kid` is
 * the RFC 7638 JWK thumbprint of the public key, or on request libtrust's key ID
 * (what distribution 2.x looks up in its `rootcertbundle`), plus on request an `x5c`
 * certificate chain (which distribution 2.x verifies against that bundle); claims `iss`, `sub`, `aud`, `exp`,
 * `nbf`, `iat`, `jti` and `access` (`[{type,name,actions}]`). Times are NumericDate
 * seconds. Verification pins the algorithm to ES256, so `alg: none` and HMAC
 * confusion cannot get through.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as signData,
  verify as verifyData,
  X509Certificate,
  type KeyObject,
} from "node:crypto";
import { readFile } from "node:fs/promises";
import { realClock, type Clock } from "../../../clock/index.js";
import { InvalidArgumentError, UnauthenticatedError } from "../../../errdefs/index.js";
import type { Access } from "./access.js";

/** The JWT `typ` of access tokens. */
export const ACCESS_TOKEN_TYPE = "JWT";
/** The JWT `typ` of podyard refresh tokens, so one can never pass for the other. */
export const REFRESH_TOKEN_TYPE = "podyard-refresh+jwt";

export interface TokenClaims {
  iss: string;
  /** the user; "" for an anonymous caller */
  sub: string;
  aud: string | string[];
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: Access[];
}

const ALG = "ES256";

export interface TokenSignerOptions {
  /**
   * How the header's `kid` names the key: "jwk-thumbprint" (RFC 7638, the default) or
   * "libtrust" (distribution 2.x's key ID, see libtrustKeyID).
   */
  kidFormat?: "jwk-thumbprint" | "libtrust";
  /**
   * A certificate chain for the header's `x5c`, leaf first: PEM text with one or more
   * certificates, or parsed certificates. The leaf must certify the signing key.
   * distribution 2.x prefers `x5c` to `kid` and verifies the chain against its
   * `rootcertbundle`.
   */
  x5c?: string | Buffer | readonly X509Certificate[];
}

/** Signs tokens with one EC P-256 private key. */
export class TokenSigner {
  readonly kid: string;
  readonly publicKey: KeyObject;
  /** the header's `x5c`: base64 (not base64url) DER certificates, leaf first; absent unless asked for */
  readonly x5c: readonly string[] | undefined;
  readonly #privateKey: KeyObject;

  constructor(privateKey: KeyObject, opts: TokenSignerOptions = {}) {
    if (privateKey.type !== "private") throw new InvalidArgumentError("token signing key: expected a private key");
    checkP256(privateKey, "token signing key");
    this.#privateKey = privateKey;
    this.publicKey = createPublicKey(privateKey);
    this.kid = opts.kidFormat === "libtrust" ? libtrustKeyID(this.publicKey) : keyID(this.publicKey);
    this.x5c = opts.x5c === undefined ? undefined : certificateChain(opts.x5c, this.publicKey);
  }

  /** A fresh key pair, for a token server whose tokens need not outlive the process. */
  static generate(opts: TokenSignerOptions = {}): TokenSigner {
    return new TokenSigner(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, opts);
  }

  /** A PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY"). */
  static fromPem(pem: string | Buffer, opts: TokenSignerOptions = {}): TokenSigner {
    let key: KeyObject;
    try {
      key = createPrivateKey(pem);
    } catch (err) {
      throw new InvalidArgumentError(`token signing key: cannot parse PEM private key: ${(err as Error).message}`, { cause: err });
    }
    return new TokenSigner(key, opts);
  }

  static async fromPemFile(path: string, opts: TokenSignerOptions = {}): Promise<TokenSigner> {
    const pem = await readFile(path);
    try {
      return TokenSigner.fromPem(pem, opts);
    } catch (err) {
      throw new InvalidArgumentError(`${path}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** A compact JWS of `claims` with this key's `kid` (and `x5c` when configured). */
  sign(claims: TokenClaims | Omit<TokenClaims, "access">, typ = ACCESS_TOKEN_TYPE): string {
    const header = b64url(JSON.stringify({ alg: ALG, typ, kid: this.kid, ...(this.x5c ? { x5c: this.x5c } : {}) }));
    const payload = b64url(JSON.stringify(claims));
    const input = `${header}.${payload}`;
    const sig = signData("sha256", Buffer.from(input), { key: this.#privateKey, dsaEncoding: "ieee-p1363" });
    return `${input}.${b64url(sig)}`;
  }
}

/** A random token ID. */
export function newTokenID(): string {
  return randomBytes(18).toString("base64url");
}

export interface VerifyTokenOptions {
  /** trusted public keys, looked up by the token's `kid` */
  keys: KeyObject | readonly KeyObject[];
  issuer: string;
  audience: string;
  clock?: Clock;
  /** expected header `typ` (default "JWT") */
  typ?: string;
  /** clock skew tolerated on `nbf` and `exp` (default 0: issuer and registry share a clock) */
  leewaySeconds?: number;
}

/**
 * Checks a token's form, algorithm, `kid`, signature, `iss`, `aud`, `nbf` and `exp`,
 * and returns its claims. Throws UnauthenticatedError saying what is wrong.
 */
export function verifyToken(token: string, opts: VerifyTokenOptions): TokenClaims {
  const parts = token.split(".");
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) throw invalid("token is not a compact JWS");
  const [h = "", p = "", s = ""] = parts;
  const header = parseJSON(h, "header");
  if (header.alg !== ALG) throw invalid(`unsupported algorithm ${JSON.stringify(header.alg)}`);
  if (header.crit !== undefined) throw invalid("unsupported critical header parameters");
  const typ = opts.typ ?? ACCESS_TOKEN_TYPE;
  if (header.typ !== typ) throw invalid(`token type ${JSON.stringify(header.typ)}, expected ${JSON.stringify(typ)}`);
  const keys = Array.isArray(opts.keys) ? (opts.keys as readonly KeyObject[]) : [opts.keys as KeyObject];
  const key = keys.find((k) => keyID(k) === header.kid || libtrustKeyID(k) === header.kid);
  if (!key) throw invalid(`token signed by unknown key ${JSON.stringify(header.kid)}`);
  const sig = Buffer.from(s, "base64url");
  if (sig.length !== 64 || !verifyData("sha256", Buffer.from(`${h}.${p}`), { key, dsaEncoding: "ieee-p1363" }, sig)) {
    throw invalid("token signature is invalid");
  }
  const claims = parseClaims(parseJSON(p, "payload"));
  if (claims.iss !== opts.issuer) throw invalid(`token issued by ${JSON.stringify(claims.iss)}, not a trusted issuer`);
  const aud = typeof claims.aud === "string" ? [claims.aud] : claims.aud;
  if (!aud.includes(opts.audience)) throw invalid(`token is for audience ${JSON.stringify(claims.aud)}, not ${JSON.stringify(opts.audience)}`);
  const now = (opts.clock ?? realClock).now() / 1000;
  const leeway = opts.leewaySeconds ?? 0;
  if (now + leeway < claims.nbf) throw invalid("token is not valid yet");
  if (now - leeway > claims.exp) throw invalid("token has expired");
  return claims;
}

/** The RFC 7638 JWK thumbprint of a P-256 public key (memoised per key object). */
export function keyID(key: KeyObject): string {
  let kid = kids.get(key);
  if (kid === undefined) {
    const pub = key.type === "private" ? createPublicKey(key) : key;
    checkP256(pub, "token key");
    const jwk = pub.export({ format: "jwk" });
    kid = createHash("sha256").update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest("base64url");
    kids.set(key, kid);
  }
  return kid;
}
const kids = new WeakMap<KeyObject, string>();

/**
 * libtrust's key ID (docker/libtrust `keyIDFromCryptoKey`), which distribution 2.x
 * indexes its `rootcertbundle` keys by: the SHA-256 of the DER SubjectPublicKeyInfo,
 * cut to 240 bits, base32 (RFC 4648, no padding), in 12 groups of 4 joined by ":".
 */
export function libtrustKeyID(key: KeyObject): string {
  let kid = libtrustKids.get(key);
  if (kid === undefined) {
    const pub = key.type === "private" ? createPublicKey(key) : key;
    const hash = createHash("sha256").update(pub.export({ format: "der", type: "spki" })).digest().subarray(0, 30);
    kid = base32(hash).match(/.{4}/g)?.join(":") ?? "";
    libtrustKids.set(key, kid);
  }
  return kid;
}
const libtrustKids = new WeakMap<KeyObject, string>();

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 of whole 5-byte groups (no padding needed). */
function base32(data: Buffer): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of data) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The `x5c` values of a chain, after checking that its leaf certifies `publicKey`. */
function certificateChain(chain: string | Buffer | readonly X509Certificate[], publicKey: KeyObject): string[] {
  let certs: X509Certificate[];
  if (typeof chain === "string" || Buffer.isBuffer(chain)) {
    const pems = chain.toString("utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    try {
      certs = pems.map((pem) => new X509Certificate(pem));
    } catch (err) {
      throw new InvalidArgumentError(`token certificate chain: cannot parse PEM certificate: ${(err as Error).message}`, { cause: err });
    }
  } else {
    certs = [...chain];
  }
  const [leaf] = certs;
  if (leaf === undefined) throw new InvalidArgumentError("token certificate chain: no certificate found; expected PEM \"BEGIN CERTIFICATE\" blocks, leaf first");
  if (!leaf.publicKey.equals(publicKey)) {
    throw new InvalidArgumentError(`token certificate chain: the first certificate (${leaf.subject.replace(/\n/g, ", ")}) is not for the signing key`);
  }
  return certs.map((c) => c.raw.toString("base64"));
}

function checkP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new InvalidArgumentError(`${what}: expected an EC P-256 key for ES256, got ${key.asymmetricKeyType ?? "unknown"} ${key.asymmetricKeyDetails?.namedCurve ?? ""}`.trimEnd());
  }
}

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString("base64url");
}

function invalid(message: string): UnauthenticatedError {
  return new UnauthenticatedError(message);
}

function parseJSON(part: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
  } catch {
    throw invalid(`token ${what} is not JSON`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw invalid(`token ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function parseClaims(c: Record<string, unknown>): TokenClaims {
  const str = (k: string): string => {
    const v = c[k];
    if (typeof v !== "string") throw invalid(`token claim ${k} is missing or not a string`);
    return v;
  };
  const num = (k: string): number => {
    const v = c[k];
    if (typeof v !== "number" || !Number.isFinite(v)) throw invalid(`token claim ${k} is missing or not a number`);
    return v;
  };
  const aud = c.aud;
  if (typeof aud !== "string" && !(Array.isArray(aud) && aud.every((a) => typeof a === "string"))) {
    throw invalid("token claim aud is missing or not a string");
  }
  const access = c.access ?? [];
  if (!Array.isArray(access)) throw invalid("token claim access is not a list");
  return {
    iss: str("iss"),
    sub: typeof c.sub === "string" ? c.sub : "",
    aud: aud as string | string[],
    exp: num("exp"),
    nbf: typeof c.nbf === "number" ? c.nbf : num("iat"),
    iat: num("iat"),
    jti: typeof c.jti === "string" ? c.jti : "",
    access: access.map(parseAccess),
  };
}

function parseAccess(a: unknown): Access {
  const r = a as Record<string, unknown> | null;
  if (
    typeof r !== "object" || r === null ||
    (r.type !== "repository" && r.type !== "registry") ||
    typeof r.name !== "string" ||
    !Array.isArray(r.actions) || !r.actions.every((x) => typeof x === "string")
  ) {
    throw invalid("token claim access has a malformed entry");
  }
  return { type: r.type, name: r.name, actions: r.actions as string[] };
}
