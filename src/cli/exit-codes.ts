/**
 * The exit code of each kind of failure, so scripts can tell "not there" from "not
 * allowed" from "try again later" without reading the message. Listed in `podyard --help`.
 */
import { errorClass, type ErrorClass } from "../errdefs/index.js";

export const EXIT_CODES = Object.freeze({
  general: 1,
  usage: 2,
  notFound: 3,
  unauthorized: 4,
  unavailable: 5,
  conflict: 6,
});

const BY_CLASS: Readonly<Record<ErrorClass, number>> = Object.freeze({
  InvalidArgument: EXIT_CODES.usage,
  OutOfRange: EXIT_CODES.usage,
  NotFound: EXIT_CODES.notFound,
  Unauthenticated: EXIT_CODES.unauthorized,
  PermissionDenied: EXIT_CODES.unauthorized,
  Unavailable: EXIT_CODES.unavailable,
  ResourceExhausted: EXIT_CODES.unavailable,
  AlreadyExists: EXIT_CODES.conflict,
  FailedPrecondition: EXIT_CODES.conflict,
  Aborted: EXIT_CODES.conflict,
  NotImplemented: EXIT_CODES.general,
  Internal: EXIT_CODES.general,
});

/** The exit code for a failed command: by the error's class, 1 for anything else. */
export function exitCodeFor(err: unknown): number {
  const cls = errorClass(err);
  return cls === undefined ? EXIT_CODES.general : BY_CLASS[cls];
}

/** The table as `podyard --help` shows it. */
export const EXIT_CODES_HELP = `
Exit codes:
  0  success
  ${EXIT_CODES.general}  error not listed below
  ${EXIT_CODES.usage}  usage: unknown command or option, missing or invalid argument or reference
  ${EXIT_CODES.notFound}  not found: no such image, manifest, blob or repository
  ${EXIT_CODES.unauthorized}  unauthorized: the registry refused the credentials, or denied access
  ${EXIT_CODES.unavailable}  unavailable: a registry is unreachable or answered 5xx or 429; retry later
  ${EXIT_CODES.conflict}  conflict: already exists, in use, or the state does not allow it
  128+N  ended by signal N: 130 ^C (SIGINT), 143 SIGTERM, 141 the reader of its output went (SIGPIPE)
`;
