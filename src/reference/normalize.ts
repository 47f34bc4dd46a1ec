/**
 * distribution/reference's `normalize.go`: Docker's conventions on top of `Parse`.
 * `ubuntu` means `docker.io/library/ubuntu`; no tag is added here (see `tagNameOnly`).
 */
import { InvalidArgumentError } from "../errdefs/index.js";
import { errHexRepositoryName, errRemoteNotLowercase, parsingInput } from "./errors.js";
import { ANCHORED_IDENTIFIER_REGEXP } from "./grammar.js";
import { parseReference, toLowerGo } from "./parse.js";
import { isNameOnly, makeReference, withTag, type Reference } from "./reference.js";

/** The domain familiar names live on (Docker Hub). */
export const DEFAULT_DOMAIN = "docker.io";
/** Docker Hub's legacy "index" domain, rewritten to `docker.io`. */
export const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
/** The Docker Hub namespace of official images. */
export const OFFICIAL_REPO_PREFIX = "library/";
export const DEFAULT_TAG = "latest";
const LOCALHOST = "localhost";

/**
 * Splits a familiar name into domain and remainder. The first component is a
 * domain when it is `localhost`, contains '.' or ':', or has uppercase letters;
 * otherwise the domain is `docker.io`. Single-component Docker Hub names get `library/`.
 */
export function splitDockerDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf("/");
  if (slash === -1) return { domain: DEFAULT_DOMAIN, remainder: OFFICIAL_REPO_PREFIX + name };
  const maybeDomain = name.slice(0, slash);
  const maybeRemainder = name.slice(slash + 1);
  let domain: string;
  let remainder: string;
  if (maybeDomain === LOCALHOST) {
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else if (maybeDomain === LEGACY_DEFAULT_DOMAIN) {
    [domain, remainder] = [DEFAULT_DOMAIN, maybeRemainder];
  } else if (maybeDomain.includes(".") || maybeDomain.includes(":")) {
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else if (toLowerGo(maybeDomain) !== maybeDomain) {
    [domain, remainder] = [maybeDomain, maybeRemainder];
  } else {
    [domain, remainder] = [DEFAULT_DOMAIN, name];
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

/**
 * Parses a familiar or fully qualified image name (`ParseNormalizedNamed`):
 * `redis:7` → `docker.io/library/redis:7`, `quay.io/a/b` unchanged. A bare
 * 64-hex image ID and uppercase repository names are rejected.
 */
export function parseNormalizedNamed(s: string): Reference {
  return parsingInput(s, () => normalize(s));
}

function normalize(s: string): Reference {
  if (ANCHORED_IDENTIFIER_REGEXP.test(s)) throw new InvalidArgumentError(errHexRepositoryName(s));
  const { domain, remainder } = splitDockerDomain(s);
  const colon = remainder.indexOf(":");
  const remote = colon === -1 ? remainder : remainder.slice(0, colon);
  if (toLowerGo(remote) !== remote) throw new InvalidArgumentError(errRemoteNotLowercase(remote));
  return parseReference(`${domain}/${remainder}`);
}

/** Adds the tag `latest` to a reference with neither tag nor digest (`TagNameOnly`). */
export function tagNameOnly(ref: Reference): Reference {
  return isNameOnly(ref) ? withTag(ref, DEFAULT_TAG) : ref;
}

/**
 * containerd's `ParseDockerRef`: normalizes, then keeps only the digest of a
 * reference that has both (`busybox:1@sha256:…` → `docker.io/library/busybox@sha256:…`)
 * and tags name-only references `latest`.
 */
export function parseDockerRef(s: string): Reference {
  const ref = parseNormalizedNamed(s);
  if (ref.tag !== undefined && ref.digest !== undefined) {
    return makeReference({ domain: ref.domain, path: ref.path, digest: ref.digest });
  }
  return tagNameOnly(ref);
}
