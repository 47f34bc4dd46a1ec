/** The result on channel 3 (kubelet server/remotecommand httpstream.go v4WriteStatusFunc). */
import type { Status } from "../../../api/index.js";
import { errorMessage } from "../../../errdefs/index.js";

export function successStatus(): Status {
  return { metadata: {}, status: "Success" };
}

export function nonZeroExitStatus(cmd: string[], exitCode: number): Status {
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(" ")}], exit code ${exitCode}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

/** A runtime failure (no such executable, container gone): kubectl prints `error: <message>` and exits 1. */
export function internalErrorStatus(err: unknown): Status {
  const text = `error executing command in container: ${errorMessage(err)}`;
  return {
    metadata: {},
    status: "Failure",
    message: `Internal error occurred: ${text}`,
    reason: "InternalError",
    details: { causes: [{ message: text }] },
    code: 500,
  };
}
