/**
 * Registry responses turned into podyard's error classes. The class says what the
 * caller should do (NotFound, Unauthenticated, Unavailable, ...); the message names
 * the registry host and what was asked for, and ends with the OCI error code from
 * the response body, e.g.
 * `manifest unknown: registry 127.0.0.1:5000 has no manifest for library/x:tag (MANIFEST_UNKNOWN)`.
 * The response itself rides along as the `cause` (a RegistryResponseError).
 */
import { findCause, newError, PodyardError } from "../../errdefs/index.js";
import { classForStatus, isOciErrorCode, OCI_CODES, parseErrorBody, type OciErrorEntry } from "../api/index.js";
import { readLimited } from "./body.js";

/** What a failed request was for, to name it in messages. */
export interface ErrorSubject {
  /** the registry host as the user named it (`docker.io`, `127.0.0.1:5000`) */
  host: string;
  /** the action: "pull", "push", "list tags of", ... */
  verb: string;
  /** the object, read after "has no": "manifest for library/x:tag", "blob sha256:… in library/x" */
  what: string;
}

/**
 * The HTTP status and OCI error entries of a failed registry response: a PodyardError
 * of the status's class, with the body's first code as `ociCode`.
 */
export class RegistryResponseError extends PodyardError {
  readonly status: number;
  readonly errors: OciErrorEntry[];
  /** the response's Retry-After header, as sent (a 429 or 503 may carry one) */
  readonly retryAfter: string | undefined;
  constructor(status: number, errors: OciErrorEntry[], message: string, retryAfter?: string) {
    super(classForStatus(status), message);
    this.status = status;
    this.errors = errors;
    this.retryAfter = retryAfter;
  }
  /** the first OCI error code, if the body had one */
  get ociCode(): string | undefined {
    return this.errors[0]?.code;
  }
}

/** The HTTP status of the registry response `err`, or one of its causes, came from. */
export function responseStatus(err: unknown): number | undefined {
  return findCause(err, RegistryResponseError)?.status;
}

function summary(code: string | undefined, fallback: string): string {
  if (code === undefined) return fallback;
  return isOciErrorCode(code) ? OCI_CODES[code].summary : fallback;
}

function describe(status: number, statusText: string, code: string | undefined, serverMessage: string | undefined, s: ErrorSubject): string {
  const where = `registry ${s.host}`;
  const detail = serverMessage ? `: ${serverMessage}` : "";
  switch (status) {
    case 401:
      return `${summary(code, "unauthorized")}: ${where} refused to let the client ${s.verb} ${s.what}; ` +
        "the repository may not exist, or it may require login with other credentials";
    case 403:
      return `denied: ${where} denied access to ${s.verb} ${s.what}${detail}`;
    case 404:
      return `${summary(code, "not found")}: ${where} has no ${s.what}`;
    case 405:
      return `unsupported: ${where} does not support the request to ${s.verb} ${s.what}${detail}`;
    case 429:
      return `too many requests: ${where} is rate limiting requests to ${s.verb} ${s.what}; retry later`;
    case 507:
      return `insufficient storage: ${where} has no room to ${s.verb} ${s.what}${detail}`;
    default:
      if (status >= 500 || status === 408) return `unavailable: ${where} answered ${status} ${statusText} to ${s.verb} ${s.what}${detail}`;
      return `${code ? summary(code, code.toLowerCase()) : `HTTP ${status}`}: ${where} rejected the request to ${s.verb} ${s.what}${detail}`;
  }
}

/** The error class for a status (the shared table's `classForStatus`): what the caller should do about it. */
export function errorForStatus(status: number, message: string, options?: ErrorOptions): PodyardError {
  return newError(classForStatus(status), message, options);
}

/**
 * The error for a failed response. Reads (at most 64 KiB of) the body for the OCI
 * error entries; a HEAD response has none, so its message carries no code.
 */
export async function responseError(res: Response, subject: ErrorSubject): Promise<PodyardError> {
  const text = await readLimited(res, 64 * 1024).then((b) => b.toString("utf8"), () => "");
  const errors = parseErrorBody(text);
  const code = errors[0]?.code;
  const message = describe(res.status, res.statusText, code, errors[0]?.message, subject) + (code ? ` (${code})` : "");
  const cause = new RegistryResponseError(res.status, errors, `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 512)}` : ""}`,
    res.headers.get("retry-after") ?? undefined);
  return errorForStatus(res.status, message, { cause });
}
