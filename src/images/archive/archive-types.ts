/**
 * What the archive operations (save, load, import) need from the image service
 * (STYLE.md R12): the content store, to stream blobs in and out; `find`, to name
 * the images to save; `register`, to name the images loaded or imported.
 */
import type { ContentStore, ImageRecord } from "../../store/index.js";
import type { FoundImage } from "../find-image.js";
import type { RegisterOptions } from "../register-image.js";

export interface ArchiveImageService {
  readonly content: ContentStore;
  find(image: string): FoundImage;
  register(opts: RegisterOptions): Promise<ImageRecord[]>;
}

/** `oci-archive`: a tar of an OCI image layout; `docker-archive`: `docker save`'s format. */
export type ArchiveFormat = "oci-archive" | "docker-archive";

/** The annotation containerd (and docker's OCI export) puts the full image name in. */
export const CONTAINERD_IMAGE_NAME_ANNOTATION = "io.containerd.image.name";
