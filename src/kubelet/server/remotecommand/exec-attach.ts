/** exec and attach requests: the options from the query, and the runtime call whose outcome becomes the status. */
import type { Status } from "../../../api/index.js";
import type { RuntimeService, StreamIO } from "../../../runtime/index.js";
import { queryFlag } from "../routes.js";
import { internalErrorStatus, nonZeroExitStatus, successStatus } from "./exit-status.js";
import type { SessionOptions } from "./websocket-session.js";

export interface StreamRequest extends SessionOptions {
  /** exec only: the command and its arguments. */
  command: string[];
}

/** Reads the kubelet's query (`input/output/error/tty`, as kube-apiserver sends) and the API's names (`stdin/stdout/stderr`). */
export function parseStreamRequest(query: URLSearchParams): StreamRequest {
  return {
    command: query.getAll("command"),
    stdin: queryFlag(query, "input", "stdin"),
    stdout: queryFlag(query, "output", "stdout"),
    stderr: queryFlag(query, "error", "stderr"),
    tty: queryFlag(query, "tty"),
  };
}

/** The kubelet's own refusal of a request with no streams (remotecommand.createStreams). */
export function streamRequestProblem(kind: "exec" | "attach", req: StreamRequest): string | undefined {
  if (kind === "exec" && req.command.length === 0) return "you must specify at least 1 command";
  if (!req.stdin && !req.stdout && !req.stderr) return "you must specify at least 1 of stdin, stdout, stderr";
  if (req.tty && req.stderr && !req.stdout) return "stdout is required with tty";
  return undefined;
}

export async function runExec(runtime: RuntimeService, containerId: string, req: StreamRequest, io: StreamIO): Promise<Status> {
  try {
    const code = await runtime.exec({ containerId, cmd: req.command, tty: req.tty, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr && !req.tty }, io);
    return code === 0 ? successStatus() : nonZeroExitStatus(req.command, code);
  } catch (err) {
    return internalErrorStatus(err);
  }
}

export async function runAttach(runtime: RuntimeService, containerId: string, req: StreamRequest, io: StreamIO): Promise<Status> {
  try {
    await runtime.attach({ containerId, stdin: req.stdin, tty: req.tty, stdout: req.stdout, stderr: req.stderr && !req.tty }, io);
    return successStatus();
  } catch (err) {
    return internalErrorStatus(err);
  }
}
