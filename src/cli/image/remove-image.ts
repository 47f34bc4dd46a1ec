/**
 * `docker rmi`'s rules over the node's images: a name untags that name; an image ID
 * untags every name of the image, which must be forced when there are several; an image
 * a container uses is kept unless forced. The conflict texts are docker's.
 */
import { FailedPreconditionError } from "../../errdefs/index.js";
import type { LocalImageService, RemoveResult } from "../../images/index.js";

export async function removeImage(service: LocalImageService, image: string, opts: { force?: boolean } = {}): Promise<RemoveResult> {
  const found = service.find(image);
  const id = found.record.configDigest;
  const names = found.byID ? found.all : [found.record];
  if (found.byID && found.all.length > 1 && !opts.force) {
    throw new FailedPreconditionError(`conflict: unable to delete ${id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`);
  }
  const last = names.length === found.all.length;
  if (last && service.inUse(id) && !opts.force) {
    throw new FailedPreconditionError(`conflict: unable to remove repository reference "${image}" (must force) - a container is using its referenced image ${id.slice(7, 19)}`);
  }
  return service.untag(names.map((r) => r.name));
}
