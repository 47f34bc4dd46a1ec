/**
 * A failure to open, read or write a file the user named, said as one line naming it:
 * Node's system errors name a temporary sibling or nothing at all ("EISDIR: illegal
 * operation on a directory, read"), and carry no error class, so the CLI would exit 1
 * with text that points nowhere.
 */
import {
  errnoCode, errorClass, InvalidArgumentError, NotFoundError, PermissionDeniedError, PodyardError, type ErrorClass,
} from "../errdefs/index.js";
import { noSpaceError } from "./no-space.js";

const CLASSES: Record<string, ErrorClass> = {
  ENOENT: "NotFound",
  EACCES: "PermissionDenied",
  EPERM: "PermissionDenied",
  EROFS: "PermissionDenied",
  EISDIR: "InvalidArgument",
  ENOTDIR: "InvalidArgument",
};

/**
 * `err` as a PodyardError saying `<what>: <reason>` (`cannot write /no/dir/a.tar: no such
 * file or directory`), of the class its errno calls for (ENOENT: NotFound; EACCES, EPERM,
 * EROFS: PermissionDenied; EISDIR, ENOTDIR: InvalidArgument; others: Internal). ENOSPC and
 * EDQUOT become noSpaceError's, naming `path`. Anything that is no system error, or already
 * has a class, passes unchanged.
 */
export function fileError(err: unknown, path: string, what: string): unknown {
  const code = errnoCode(err);
  if (code === undefined || !/^E[A-Z0-9]+$/.test(code) || errorClass(err) !== undefined) return err;
  const spaced = noSpaceError(err, path);
  if (spaced !== err) return spaced;
  // Node writes "<CODE>: <reason>, <syscall> '<path>'"; the reason alone is the part worth keeping
  const reason = /^E[A-Z0-9]+: ([^,]+)/.exec((err as Error).message)?.[1] ?? code;
  const message = `${what}: ${reason}`;
  const cls = CLASSES[code] ?? "Internal";
  if (cls === "NotFound") return new NotFoundError(message, { cause: err });
  if (cls === "PermissionDenied") return new PermissionDeniedError(message, { cause: err });
  if (cls === "InvalidArgument") return new InvalidArgumentError(message, { cause: err });
  return new PodyardError(cls, message, { cause: err });
}
