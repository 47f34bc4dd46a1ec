/**
 * The fixed error texts of distribution/reference (`errors.go`, `normalize.go`),
 * word for word: clients and users match on them.
 */
import { InvalidArgumentError, isInvalidArgument } from "../errdefs/index.js";

export const ERR_NAME_EMPTY = "repository name must have at least one component";
export const ERR_NAME_CONTAINS_UPPERCASE = "repository name must be lowercase";
export const ERR_REFERENCE_INVALID_FORMAT = "invalid reference format";
export const ERR_NAME_TOO_LONG = "repository name must not be more than 255 characters";
export const ERR_TAG_INVALID_FORMAT = "invalid tag format";

/** `ParseNormalizedNamed`'s rejection of a bare image ID. */
export function errHexRepositoryName(s: string): string {
  return `invalid repository name (${s}), cannot specify 64-byte hexadecimal strings`;
}

/** `ParseNormalizedNamed`'s rejection of an uppercase remote name. */
export function errRemoteNotLowercase(remote: string): string {
  return `invalid reference format: repository name (${remote}) must be lowercase`;
}

/**
 * A reference that failed to parse, with the input as the user gave it. The message stays
 * distribution's text (clients match on it); `input` lets the caller name what was wrong:
 * `invalid reference format: "a..b"`.
 */
export class InvalidReferenceError extends InvalidArgumentError {
  readonly input: string;
  constructor(input: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.input = input;
  }
}

/**
 * Runs `parse` on `input`; an InvalidArgument it throws becomes an InvalidReferenceError
 * naming `input` (an outer parse names its own, unnormalized, input), with the same message.
 */
export function parsingInput<T>(input: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (!isInvalidArgument(err) || (err instanceof InvalidReferenceError && err.input === input)) throw err;
    throw new InvalidReferenceError(input, (err as Error).message, { cause: err });
  }
}
