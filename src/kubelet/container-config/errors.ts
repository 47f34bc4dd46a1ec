import { FailedPreconditionError } from "../../errdefs/index.js";

/**
 * Why the kubelet could not build a container's config (env, mounts, runAsNonRoot). The message
 * is the kubelet's text, shown as the waiting message; `reason` the waiting reason.
 */
export class CreateContainerConfigError extends FailedPreconditionError {
  readonly reason = "CreateContainerConfigError";
}
