/**
 * The short forms the Docker UI shows (`FamiliarName`, `FamiliarString`): the
 * `docker.io/` domain is dropped, and `library/` too when nothing nests below it.
 */
import { DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX } from "./normalize.js";
import { makeReference, type Reference } from "./reference.js";

function familiarize(ref: Reference): Reference {
  if (ref.domain !== DEFAULT_DOMAIN) return ref;
  let path = ref.path;
  if (path.startsWith(OFFICIAL_REPO_PREFIX)) {
    const rest = path.slice(OFFICIAL_REPO_PREFIX.length);
    if (!rest.includes("/")) path = rest;
  }
  return makeReference({ domain: "", path, tag: ref.tag, digest: ref.digest });
}

/** `docker.io/library/redis` → `redis`, `docker.io/dmcgowan/myapp` → `dmcgowan/myapp`. */
export function familiarName(ref: Reference): string {
  return familiarize(ref).name;
}

/** The familiar name with the tag and digest: `docker.io/library/redis:7` → `redis:7`. */
export function familiarString(ref: Reference): string {
  return familiarize(ref).toString();
}
