/** What pull policy a container has (core/v1 `SetDefaults_Container`, shared with the API server through src/api). */
import { defaultImagePullPolicy, type Container, type PullPolicy } from "../../api/index.js";

/** The container's policy, defaulted when the API server has not done it. */
export function containerPullPolicy(container: Container): PullPolicy {
  return container.imagePullPolicy ?? defaultImagePullPolicy(container.image ?? "");
}
