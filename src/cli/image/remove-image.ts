/**
 * `docker rmi`'s rules over the node's images: a name untags that name; an image ID
 * untags every name of the image, which must be forced unless those names are one
 * reference (at most one tag, and digests, of one repository); an image a container
 * uses is kept unless forced. The conflict texts are docker's.
 */
import { FailedPreconditionError } from "../../errdefs/index.js";
import type { LocalImageService, RemoveResult } from "../../images/index.js";
import { parseDockerRef } from "../../reference/index.js";
import { isDangling, type ImageRecord } from "../../store/index.js";

export async function removeImage(service: LocalImageService, image: string, opts: { force?: boolean } = {}): Promise<RemoveResult> {
  const found = service.find(image);
  const id = found.record.configDigest;
  const names = found.byID ? found.all : [found.record];
  if (found.byID && !isSingleReference(found.all) && !opts.force) {
    throw new FailedPreconditionError(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
  }
  const last = names.length === found.all.length;
  if (last && service.inUse(id) && !opts.force) {
    throw new FailedPreconditionError(`conflict: unable to remove repository reference "${image}" (must force) - a container is using its referenced image ${id.slice(7, 19)}`);
  }
  return service.untag(names.map((r) => r.name));
}

/**
 * docker's isSingleReference: the records name one repository, with at most one tag (an
 * image pulled as `app:v1` and as `app@sha256:…` is one reference; `app:v1` and `app:v2`,
 * or two repositories, are not). A dangling record names no repository.
 */
function isSingleReference(records: readonly ImageRecord[]): boolean {
  const refs = records.filter((r) => !isDangling(r)).map((r) => parseDockerRef(r.name));
  return refs.filter((r) => r.digest === undefined).length <= 1 && refs.every((r) => r.name === refs[0]?.name);
}
