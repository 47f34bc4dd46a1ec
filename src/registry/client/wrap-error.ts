/**
 * Adding context to an error without changing its class: `pull docker.io/library/x:1: <message>`.
 * The new error is of the same errdefs class and keeps the original as its `cause`.
 */
import { errorClass, newError, type PodyardError } from "../../errdefs/index.js";

/** An error of `err`'s class (Internal for foreign errors) with `message`, caused by `err`. */
export function wrapError(err: unknown, message: string): PodyardError {
  return newError(errorClass(err) ?? "Internal", message, { cause: err });
}
