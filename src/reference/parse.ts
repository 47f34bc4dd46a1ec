/** distribution/reference's `Parse`: syntax only, no default domain or tag. */
import { InvalidArgumentError } from "../errdefs/index.js";
import { parseDigest, type Digest } from "../oci/index.js";
import { ERR_NAME_CONTAINS_UPPERCASE, ERR_NAME_EMPTY, ERR_NAME_TOO_LONG, ERR_REFERENCE_INVALID_FORMAT, parsingInput } from "./errors.js";
import { ANCHORED_NAME_REGEXP, REFERENCE_REGEXP, REPOSITORY_NAME_TOTAL_LENGTH_MAX } from "./grammar.js";
import { makeReference, type Reference } from "./reference.js";

/**
 * Parses `s` as `name[:tag][@digest]`. The first component becomes the domain
 * whenever it can be one (`foo/bar` has domain `foo`); use `parseNormalizedNamed`
 * for the Docker conventions. Checks run in distribution's order: empty, format
 * (uppercase named apart), path length, then the digest as go-digest validates it.
 */
export function parseReference(s: string): Reference {
  return parsingInput(s, () => parse(s));
}

function parse(s: string): Reference {
  if (s === "") throw new InvalidArgumentError(ERR_NAME_EMPTY);
  const matches = REFERENCE_REGEXP.exec(s);
  if (matches === null) {
    const lower = toLowerGo(s);
    if (lower !== s && REFERENCE_REGEXP.test(lower)) throw new InvalidArgumentError(ERR_NAME_CONTAINS_UPPERCASE);
    throw new InvalidArgumentError(ERR_REFERENCE_INVALID_FORMAT);
  }
  const name = matches[1] ?? "";
  const nameMatch = ANCHORED_NAME_REGEXP.exec(name);
  const domain = nameMatch?.[1] ?? "";
  const path = nameMatch?.[2] ?? name;
  if (path.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) throw new InvalidArgumentError(ERR_NAME_TOO_LONG);
  const tag = matches[2];
  const rawDigest = matches[3];
  let digest: Digest | undefined;
  if (rawDigest !== undefined && rawDigest !== "") digest = parseDigest(rawDigest);
  return makeReference({ domain, path, tag, digest });
}

/**
 * Go's `strings.ToLower`: simple per-rune case mapping. JavaScript's `toLowerCase`
 * differs only for U+0130 (İ), which Go maps to a plain "i".
 */
export function toLowerGo(s: string): string {
  return s.replace(/\u0130/g, "i").toLowerCase();
}
