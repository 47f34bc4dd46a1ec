/**
 * Checks for the registry server, which receives the repository path and the tag
 * separately (OCI distribution spec name and tag grammars).
 */
import { InvalidArgumentError } from "../errdefs/index.js";
import { ANCHORED_REMOTE_NAME_REGEXP, ANCHORED_TAG_REGEXP, REPOSITORY_NAME_TOTAL_LENGTH_MAX } from "./grammar.js";

const NAME_GRAMMAR = String.raw`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`;
const TAG_GRAMMAR = String.raw`[\w][\w.-]{0,127}`;

/** Throws unless `name` (a path, without domain) is a valid repository name of at most 255 characters. */
export function validateRepositoryName(name: string): void {
  if (name.length > REPOSITORY_NAME_TOTAL_LENGTH_MAX) {
    throw new InvalidArgumentError(
      `invalid repository name ${JSON.stringify(name)}: must not be more than ${REPOSITORY_NAME_TOTAL_LENGTH_MAX} characters`,
    );
  }
  if (!ANCHORED_REMOTE_NAME_REGEXP.test(name)) {
    throw new InvalidArgumentError(`invalid repository name ${JSON.stringify(name)}: must match ${NAME_GRAMMAR}`);
  }
}

/** Throws unless `tag` is a valid tag: a word character, then at most 127 of `[\w.-]`. */
export function validateTag(tag: string): void {
  if (!ANCHORED_TAG_REGEXP.test(tag)) {
    throw new InvalidArgumentError(`invalid tag ${JSON.stringify(tag)}: must match ${TAG_GRAMMAR}`);
  }
}
