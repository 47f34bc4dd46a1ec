/**
 * The API server's default for `imagePullPolicy` (core/v1 `SetDefaults_Container`): `Always`
 * when the image's tag is `latest` (written, or implied by neither tag nor digest), else
 * `IfNotPresent`, unparsable images included. The kubelet's image manager applies the same rule.
 */
import { parseImageName } from "../reference/index.js";
import type { PullPolicy } from "./core-v1.js";

export function defaultImagePullPolicy(image: string): PullPolicy {
  let tag = "";
  try {
    tag = parseImageName(image).tag;
  } catch {
    // An image the kubelet cannot parse still gets a policy; it fails later with InvalidImageName.
  }
  return tag === "latest" ? "Always" : "IfNotPresent";
}
