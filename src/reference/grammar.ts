/**
 * The image reference grammar of distribution/reference v0.6.0 (`regexp.go`), built
 * from the same pieces so the regular expressions match the same strings and
 * capture the same groups (Go's leftmost-first submatches equal a backtracking
 * engine's).
 *
 * ```
 * reference        := name [ ":" tag ] [ "@" digest ]
 * name             := [domain '/'] remote-name
 * domain           := host [':' port-number]
 * host             := domain-name | IPv4address | \[ IPv6address \]
 * remote-name      := path-component ['/' path-component]*
 * ```
 */

/** Longest path (the name without its domain) a reference may have. */
export const REPOSITORY_NAME_TOTAL_LENGTH_MAX = 255;

/** Lowercase letters and digits: the atom of path components. */
const alphanumeric = String.raw`[a-z0-9]+`;
/** One period, one or two underscores, or any run of dashes. */
const separator = String.raw`(?:[._]|__|[-]+)`;
/** A DNS label; unlike path components it may hold uppercase letters. */
const domainNameComponent = String.raw`(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`;
const optionalPort = String.raw`(?::[0-9]+)?`;
/** At most 128 characters, not starting with '.' or '-'. */
const tag = String.raw`[\w][\w.-]{0,127}`;
const digestPat = String.raw`[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9A-Fa-f]{32,}`;
const identifier = String.raw`([a-f0-9]{64})`;
/** Bracketed IPv6 without zone identifiers or IPv4-mapped forms. */
const ipv6address = String.raw`\[(?:[a-fA-F0-9:]+)\]`;
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const host = `(?:${domainName}|${ipv6address})`;
const domainAndPort = host + optionalPort;
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;

/** Captures name, tag and digest of a whole reference. */
export const REFERENCE_REGEXP = new RegExp(`^(${namePat})(?::(${tag}))?(?:@(${digestPat}))?$`);
/** Captures the domain (optional, tried first) and the remote name of a name. */
export const ANCHORED_NAME_REGEXP = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
/** A remote name alone: the repository grammar of the OCI distribution spec. */
export const ANCHORED_REMOTE_NAME_REGEXP = new RegExp(`^${remoteName}$`);
export const ANCHORED_TAG_REGEXP = new RegExp(`^${tag}$`);
export const ANCHORED_DIGEST_REGEXP = new RegExp(`^${digestPat}$`);
/** A bare 64-hex image ID, which is never accepted as a repository name. */
export const ANCHORED_IDENTIFIER_REGEXP = new RegExp(`^${identifier}$`);
