/**
 * The reference value: a repository name (`domain/path`), optionally a tag and a
 * digest. distribution models the combinations as separate Go types (repository,
 * taggedReference, canonicalReference, reference); here one immutable value
 * carries optional `tag` and `digest`.
 */
import { InvalidArgumentError } from "../errdefs/index.js";
import { parseDigest, type Digest } from "../oci/index.js";
import { ERR_TAG_INVALID_FORMAT } from "./errors.js";
import { ANCHORED_TAG_REGEXP } from "./grammar.js";

export interface Reference {
  /** Registry host and optional port; "" when `parseReference` found none. */
  readonly domain: string;
  /** The repository path inside the registry, e.g. `library/ubuntu`. */
  readonly path: string;
  /** `domain/path`, or just `path` when there is no domain. */
  readonly name: string;
  readonly tag?: string;
  readonly digest?: Digest;
  /** `name[:tag][@digest]`. */
  toString(): string;
}

export interface ReferenceParts {
  domain: string;
  path: string;
  tag?: string | undefined;
  digest?: Digest | undefined;
}

class ReferenceValue implements Reference {
  readonly domain: string;
  readonly path: string;
  readonly name: string;
  readonly tag?: string;
  readonly digest?: Digest;

  constructor(parts: ReferenceParts) {
    this.domain = parts.domain;
    this.path = parts.path;
    this.name = parts.domain === "" ? parts.path : `${parts.domain}/${parts.path}`;
    if (parts.tag !== undefined && parts.tag !== "") this.tag = parts.tag;
    if (parts.digest !== undefined) this.digest = parts.digest;
    Object.freeze(this);
  }

  toString(): string {
    let s = this.name;
    if (this.tag !== undefined) s += `:${this.tag}`;
    if (this.digest !== undefined) s += `@${this.digest}`;
    return s;
  }
}

/** Builds a reference from parts that the caller has already validated. */
export function makeReference(parts: ReferenceParts): Reference {
  return new ReferenceValue(parts);
}

/** True when the reference has neither a tag nor a digest (distribution's `IsNameOnly`). */
export function isNameOnly(ref: Reference): boolean {
  return ref.tag === undefined && ref.digest === undefined;
}

/** The reference with `tag` set, keeping any digest (distribution's `WithTag`). */
export function withTag(ref: Reference, tag: string): Reference {
  if (!ANCHORED_TAG_REGEXP.test(tag)) throw new InvalidArgumentError(ERR_TAG_INVALID_FORMAT);
  return makeReference({ domain: ref.domain, path: ref.path, tag, digest: ref.digest });
}

/**
 * The reference with `digest` set, keeping any tag (distribution's `WithDigest`). The
 * digest is checked as go-digest does, so only sha256, sha384 and sha512 pass.
 */
export function withDigest(ref: Reference, digest: string): Reference {
  return makeReference({ domain: ref.domain, path: ref.path, tag: ref.tag, digest: parseDigest(digest) });
}

/** The name alone, without tag or digest (distribution's `TrimNamed`). */
export function trimNamed(ref: Reference): Reference {
  return makeReference({ domain: ref.domain, path: ref.path });
}
