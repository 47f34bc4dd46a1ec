/** The termination message after a container exits (`getTerminationMessage`, kubelet-pods §5.6). */
import { open } from "node:fs/promises";
import { Writable } from "node:stream";
import type { Container } from "../../api/index.js";
import { errnoCode } from "../../errdefs/index.js";
import { readContainerLog } from "../../runtime/index.js";

export const MAX_TERMINATION_MESSAGE_LENGTH = 4096;
export const MAX_TERMINATION_MESSAGE_LOG_LINES = 80;
export const MAX_TERMINATION_MESSAGE_LOG_LENGTH = 2048;

/** The last `max` bytes of a file (`tail.ReadAtMost`). */
async function readAtMost(path: string, max: number): Promise<Buffer> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - max);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf;
  } finally {
    await fh.close();
  }
}

/** The last 80 log lines, at most their last 2048 bytes (`readLastStringFromContainerLogs`). */
export async function lastLogString(logPath: string): Promise<string> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(chunk: Buffer, _enc, cb) { chunks.push(chunk); cb(); } });
  try {
    await readContainerLog(logPath, { tailLines: MAX_TERMINATION_MESSAGE_LOG_LINES }, out);
  } catch (err) {
    return `Error on reading termination message from logs: ${(err as Error).message}`;
  }
  const all = Buffer.concat(chunks);
  return all.subarray(Math.max(0, all.length - MAX_TERMINATION_MESSAGE_LOG_LENGTH)).toString("utf8");
}

export interface TerminationMessageInput {
  /** The host file mounted at terminationMessagePath (from the config or the CRI status mounts); undefined or "" when none. */
  hostPath: string | undefined;
  /** The policy; default the container's terminationMessagePolicy, else File. */
  policy?: "File" | "FallbackToLogsOnError";
  container?: Pick<Container, "terminationMessagePolicy">;
  exitCode: number;
  /** The CRI reason (`ContainerCannotRun` never falls back to logs). */
  reason?: string;
  /** The container's CRI log file. */
  logPath?: string;
}

/**
 * The message the kubelet appends to `terminated.message`: the file's last 4096 bytes; with
 * FallbackToLogsOnError and a failed exit, the log's tail when the file is missing or empty.
 */
export async function readTerminationMessage(input: TerminationMessageInput): Promise<string> {
  const policy = input.policy ?? input.container?.terminationMessagePolicy ?? "File";
  const fallback = policy === "FallbackToLogsOnError" && input.exitCode !== 0 && input.reason !== "ContainerCannotRun";
  let message = "";
  let checkLogs = fallback;
  if (input.hostPath) {
    try {
      message = (await readAtMost(input.hostPath, MAX_TERMINATION_MESSAGE_LENGTH)).toString("utf8");
      checkLogs = fallback && message.length === 0;
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") return `Error on reading termination log ${input.hostPath}: ${(err as Error).message}`;
    }
  }
  if (checkLogs && input.logPath) return lastLogString(input.logPath);
  return message;
}
