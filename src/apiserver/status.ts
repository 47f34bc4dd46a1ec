/**
 * API errors as kube-apiserver returns them: a metav1.Status with the HTTP code and reason
 * (apimachinery/pkg/api/errors), carried by a PodyardError so the usual class tests still work.
 */
import type { Status, StatusCause, StatusDetails } from "../api/index.js";
import { PodyardError, type ErrorClass } from "../errdefs/index.js";

const CLASS_OF_CODE: Record<number, ErrorClass> = {
  400: "InvalidArgument", 401: "Unauthenticated", 403: "PermissionDenied", 404: "NotFound", 405: "InvalidArgument",
  406: "InvalidArgument", 409: "AlreadyExists", 410: "OutOfRange", 413: "InvalidArgument", 415: "InvalidArgument",
  422: "InvalidArgument", 429: "ResourceExhausted", 500: "Internal", 501: "NotImplemented", 503: "Unavailable", 504: "Unavailable",
};

/** An error the API answers with `status` (code, reason, message, details). */
export class ApiError extends PodyardError {
  readonly status: Status;
  constructor(code: number, reason: string, message: string, details?: StatusDetails, options?: ErrorOptions) {
    super(reason === "Conflict" ? "Aborted" : CLASS_OF_CODE[code] ?? "Internal", message, options);
    this.status = {
      kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason,
      ...(details ? { details } : {}), code,
    };
  }
  get httpCode(): number {
    return this.status.code ?? 500;
  }
}

/** `pods "x" not found` */
export const notFound = (resource: string, name: string, group = ""): ApiError =>
  new ApiError(404, "NotFound", `${group ? `${resource}.${group}` : resource} "${name}" not found`, { name, ...(group ? { group } : {}), kind: resource });

export const alreadyExists = (resource: string, name: string, group = ""): ApiError =>
  new ApiError(409, "AlreadyExists", `${group ? `${resource}.${group}` : resource} "${name}" already exists`, { name, ...(group ? { group } : {}), kind: resource });

/** The optimistic-concurrency failure (errors.NewConflict). */
export const conflict = (resource: string, name: string, why: string, group = ""): ApiError =>
  new ApiError(409, "Conflict", `Operation cannot be fulfilled on ${group ? `${resource}.${group}` : resource} "${name}": ${why}`, { name, ...(group ? { group } : {}), kind: resource });

export const MODIFIED_CONFLICT = "the object has been modified; please apply your changes to the latest version and try again";

export const badRequest = (message: string): ApiError => new ApiError(400, "BadRequest", message);

export const invalid = (kind: string, name: string, message: string, causes: StatusCause[], group = ""): ApiError =>
  new ApiError(422, "Invalid", message, { name, ...(group ? { group } : {}), kind, causes });

export const forbidden = (resource: string, name: string, why: string, group = ""): ApiError =>
  new ApiError(403, "Forbidden", `${group ? `${resource}.${group}` : resource} "${name}" is forbidden: ${why}`, { name, ...(group ? { group } : {}), kind: resource });

export const methodNotAllowed = (): ApiError =>
  new ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");

export const resourceNotFound = (): ApiError =>
  new ApiError(404, "NotFound", "the server could not find the requested resource", {});

export const expired = (message: string): ApiError => new ApiError(410, "Expired", message);

export const internalError = (err: unknown): ApiError =>
  new ApiError(500, "InternalError", `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
    { causes: [{ message: err instanceof Error ? err.message : String(err) }] }, { cause: err });

/** Any thrown value as the Status to answer with (500 InternalError for what is not an ApiError). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const e = err instanceof PodyardError ? err : undefined;
  if (e?.code === "ResourceExhausted") return new ApiError(429, "TooManyRequests", e.message, undefined, { cause: err });
  return internalError(err);
}

export const successStatus = (details?: StatusDetails): Status => ({
  kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", ...(details ? { details } : {}),
});

