/**
 * Content digests (`algorithm:encoded`), as go-digest validates them, and the
 * hashing that produces them. sha256, sha384 and sha512 are registered.
 */
import { createHash, type Hash } from "node:crypto";
import { InvalidArgumentError } from "../errdefs/index.js";

export type Digest = `${string}:${string}`;
export type DigestAlgorithm = "sha256" | "sha384" | "sha512";

const ENCODED_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 };
const DIGEST_FORMAT = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigestAlgorithm(alg: string): alg is DigestAlgorithm {
  return Object.hasOwn(ENCODED_LENGTH, alg);
}

/**
 * Checks a digest string the way go-digest's `Digest.Validate` does and returns it typed.
 * Messages are go-digest's own: "invalid checksum digest format", "unsupported digest
 * algorithm", "invalid checksum digest length".
 */
export function parseDigest(s: string): Digest {
  const i = s.indexOf(":");
  if (i <= 0 || i === s.length - 1) throw new InvalidArgumentError("invalid checksum digest format");
  const alg = s.slice(0, i);
  const encoded = s.slice(i + 1);
  if (!isDigestAlgorithm(alg)) {
    if (DIGEST_FORMAT.test(s)) throw new InvalidArgumentError("unsupported digest algorithm");
    throw new InvalidArgumentError("invalid checksum digest format");
  }
  if (encoded.length !== ENCODED_LENGTH[alg]) throw new InvalidArgumentError("invalid checksum digest length");
  if (!/^[a-f0-9]+$/.test(encoded)) throw new InvalidArgumentError("invalid checksum digest format");
  return s as Digest;
}

/** True when `s` is a valid, supported digest. */
export function isDigest(s: string): s is Digest {
  try {
    parseDigest(s);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(d: Digest): DigestAlgorithm {
  return d.slice(0, d.indexOf(":")) as DigestAlgorithm;
}

export function digestEncoded(d: Digest): string {
  return d.slice(d.indexOf(":") + 1);
}

/** The digest of a whole buffer. */
export function digestOf(data: Uint8Array | string, alg: DigestAlgorithm = "sha256"): Digest {
  return `${alg}:${createHash(alg).update(data).digest("hex")}`;
}

/** An incremental digester: feed it bytes as they stream past. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  #hash: Hash;
  #size = 0;
  constructor(alg: DigestAlgorithm = "sha256") {
    this.algorithm = alg;
    this.#hash = createHash(alg);
  }
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }
  get size(): number {
    return this.#size;
  }
  /** The digest so far; the digester stays usable (the hash is copied). */
  digest(): Digest {
    return `${this.algorithm}:${this.#hash.copy().digest("hex")}`;
  }
}
