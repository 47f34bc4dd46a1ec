/**
 * One error hierarchy for all of podyard, split by what the caller should do
 * (containerd's errdefs). Each class has a stable `code`; callers test the class
 * with the `is*` helpers, which follow the `cause` chain, and never match text.
 */

export type ErrorClass =
  | "InvalidArgument"
  | "NotFound"
  | "AlreadyExists"
  | "FailedPrecondition"
  | "Unavailable"
  | "PermissionDenied"
  | "Unauthenticated"
  | "ResourceExhausted"
  | "OutOfRange"
  | "Aborted"
  | "NotImplemented"
  | "Internal";

export class PodyardError extends Error {
  readonly code: ErrorClass;
  constructor(code: ErrorClass, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("InvalidArgument", message, options); }
}
export class NotFoundError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("NotFound", message, options); }
}
export class AlreadyExistsError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("AlreadyExists", message, options); }
}
export class FailedPreconditionError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("FailedPrecondition", message, options); }
}
export class UnavailableError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("Unavailable", message, options); }
}
export class PermissionDeniedError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("PermissionDenied", message, options); }
}
export class UnauthenticatedError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("Unauthenticated", message, options); }
}
export class ResourceExhaustedError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("ResourceExhausted", message, options); }
}
export class OutOfRangeError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("OutOfRange", message, options); }
}
export class AbortedError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("Aborted", message, options); }
}
export class NotImplementedError extends PodyardError {
  constructor(message: string, options?: ErrorOptions) { super("NotImplemented", message, options); }
}

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

/** Every error class, for catalogue tests and tables that must cover them all. */
export const ERROR_CLASSES: readonly ErrorClass[] = Object.freeze([...(Object.keys(CLASSES) as ErrorClass[]), "Internal"]);

/** True when `name` is one of the error classes (a name that crossed a thread or process boundary). */
export function isErrorClass(name: string): name is ErrorClass {
  return name === "Internal" || Object.hasOwn(CLASSES, name);
}

/** A new error of class `code` (its own subclass; a plain PodyardError for Internal). */
export function newError(code: ErrorClass, message: string, options?: ErrorOptions): PodyardError {
  const Class = code === "Internal" ? undefined : CLASSES[code];
  return Class ? new Class(message, options) : new PodyardError("Internal", message, options);
}

/** `err` and the errors of its `cause` chain, outermost first (at most 16). */
export function* causeChain(err: unknown): Generator<Error> {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) yield e;
}

/** The outermost of `err` and its causes that is an instance of `Class`. */
export function findCause<T extends Error>(err: unknown, Class: abstract new (...args: never[]) => T): T | undefined {
  for (const e of causeChain(err)) if (e instanceof Class) return e;
  return undefined;
}

/** Whether `err` or one of its causes carries the system error code `code` (`ECONNREFUSED`, `ETIMEDOUT`). */
export function hasErrorCode(err: unknown, code: string): boolean {
  for (const e of causeChain(err)) if ("code" in e && e.code === code) return true;
  return false;
}

/** The class of `err`, looking through `cause` links; undefined for foreign errors. */
export function errorClass(err: unknown): ErrorClass | undefined {
  return findCause(err, PodyardError)?.code;
}

export const isInvalidArgument = (err: unknown): boolean => errorClass(err) === "InvalidArgument";
export const isNotFound = (err: unknown): boolean => errorClass(err) === "NotFound";
export const isAlreadyExists = (err: unknown): boolean => errorClass(err) === "AlreadyExists";
export const isFailedPrecondition = (err: unknown): boolean => errorClass(err) === "FailedPrecondition";
export const isUnavailable = (err: unknown): boolean => errorClass(err) === "Unavailable";

/** The message of anything thrown: an Error's message, else the value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The errno code of a Node system error (ENOENT, EEXIST, ...), if it is one. */
export function errnoCode(err: unknown): string | undefined {
  if (err instanceof Error && "code" in err && typeof err.code === "string") return err.code;
  return undefined;
}
