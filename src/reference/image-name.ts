/**
 * How kubelet reads image names (`pkg/util/parsers/parsers.go` `ParseImageName`,
 * `pkg/kubelet/images/image_manager.go` `applyDefaultImageTag`).
 */
import { errorMessage, InvalidArgumentError } from "../errdefs/index.js";
import { goQuote } from "../gofmt/index.js";
import { DEFAULT_TAG, parseNormalizedNamed } from "./normalize.js";
import type { Reference } from "./reference.js";

export interface ImageName {
  /** The normalized name, e.g. `docker.io/library/nginx`. */
  repo: string;
  /** The tag; "latest" when the image has neither tag nor digest, "" when it has only a digest. */
  tag: string;
  /** The digest, or "". */
  digest: string;
}

/**
 * Splits an image into normalized repository, tag and digest. The tag is
 * reported even when a digest is present. Fails with
 * `couldn't parse image name "<image>": <reason>`.
 */
export function parseImageName(image: string): ImageName {
  let named: Reference;
  try {
    named = parseNormalizedNamed(image);
  } catch (err) {
    const reason = errorMessage(err);
    throw new InvalidArgumentError(`couldn't parse image name ${goQuote(image)}: ${reason}`, { cause: err });
  }
  const tag = named.tag ?? "";
  const digest = named.digest ?? "";
  return { repo: named.name, tag: tag === "" && digest === "" ? DEFAULT_TAG : tag, digest };
}

/**
 * Appends `:latest` to an image with neither tag nor digest, leaving the string
 * otherwise as written: `busybox` → `busybox:latest`, never `docker.io/library/…`,
 * so the CRI stays agnostic of default hostnames. Digested images are unchanged.
 */
export function applyDefaultImageTag(image: string): string {
  const { tag, digest } = parseImageName(image);
  if (digest === "" && tag !== "" && !image.endsWith(`:${tag}`)) return `${image}:${tag}`;
  return image;
}
