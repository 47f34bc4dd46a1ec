/**
 * Adding context to an error without changing its class: `pull docker.io/library/x:1: <message>`.
 * The new error is of the same errdefs class and keeps the original as its `cause`.
 */
import {
  AbortedError,
  AlreadyExistsError,
  errorClass,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  NotImplementedError,
  OutOfRangeError,
  PermissionDeniedError,
  PodyardError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
  type ErrorClass,
} from "../../errdefs/index.js";

const CLASSES: Record<Exclude<ErrorClass, "Internal">, new (message: string, options?: ErrorOptions) => PodyardError> = {
  InvalidArgument: InvalidArgumentError,
  NotFound: NotFoundError,
  AlreadyExists: AlreadyExistsError,
  FailedPrecondition: FailedPreconditionError,
  Unavailable: UnavailableError,
  PermissionDenied: PermissionDeniedError,
  Unauthenticated: UnauthenticatedError,
  ResourceExhausted: ResourceExhaustedError,
  OutOfRange: OutOfRangeError,
  Aborted: AbortedError,
  NotImplemented: NotImplementedError,
};

/** An error of `err`'s class (Internal for foreign errors) with `message`, caused by `err`. */
export function wrapError(err: unknown, message: string): PodyardError {
  const code = errorClass(err) ?? "Internal";
  const Class = code === "Internal" ? undefined : CLASSES[code];
  return Class ? new Class(message, { cause: err }) : new PodyardError("Internal", message, { cause: err });
}
