/**
 * The storage root check made before a registry serves or collects garbage: the root
 * must be a directory the process can read, write and enter, or the command stops
 * with one line naming the root, instead of answering 500s (or reporting a clean
 * collection of nothing) later.
 */
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { errnoCode, FailedPreconditionError, NotFoundError } from "../../errdefs/index.js";

export interface CheckRootOptions {
  /** create a missing root (serve); else a missing root is an error (gc) */
  create: boolean;
}

export async function checkRoot(root: string, opts: CheckRootOptions): Promise<void> {
  try {
    const st = await stat(root).catch(async (err: unknown) => {
      if (errnoCode(err) !== "ENOENT" || !opts.create) throw err;
      await mkdir(root, { recursive: true });
      return stat(root);
    });
    if (!st.isDirectory()) throw new FailedPreconditionError(`registry root ${root} is not a directory`);
    await access(root, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof FailedPreconditionError) throw err;
    const code = errnoCode(err);
    if (code === "ENOENT") throw new NotFoundError(`registry root ${root} does not exist`, { cause: err });
    throw new FailedPreconditionError(`registry root ${root} is not usable: ${reason(code, err)}`, { cause: err });
  }
}

const REASONS: Record<string, string> = {
  EACCES: "permission denied (it must be readable and writable)",
  EPERM: "operation not permitted (it must be readable and writable)",
  EROFS: "read-only file system",
  ENOTDIR: "a parent of it is not a directory",
};

function reason(code: string | undefined, err: unknown): string {
  return (code !== undefined ? REASONS[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
}
