/**
 * Registry responses turned into podyard's error classes. The class says what the
 * caller should do (NotFound, Unauthenticated, Unavailable, ...); the message names
 * the registry host and what was asked for, and ends with the OCI error code from
 * the response body, e.g.
 * `manifest unknown: registry 127.0.0.1:5000 has no manifest for library/x:tag (MANIFEST_UNKNOWN)`.
 * The response itself rides along as the `cause` (a RegistryResponseError).
 */
import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  NotImplementedError,
  OutOfRangeError,
  PermissionDeniedError,
  PodyardError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../../errdefs/index.js";
import { readLimited } from "./body.js";

/** One entry of an OCI error body: `{"errors":[{"code":"…","message":"…","detail":…}]}`. */
export interface OciErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

/** What a failed request was for, to name it in messages. */
export interface ErrorSubject {
  /** the registry host as the user named it (`docker.io`, `127.0.0.1:5000`) */
  host: string;
  /** the action: "pull", "push", "list tags of", ... */
  verb: string;
  /** the object, read after "has no": "manifest for library/x:tag", "blob sha256:… in library/x" */
  what: string;
}

/** The HTTP status and OCI error entries of a failed registry response. */
export class RegistryResponseError extends Error {
  readonly status: number;
  readonly errors: OciErrorEntry[];
  constructor(status: number, errors: OciErrorEntry[], message: string) {
    super(message);
    this.name = "RegistryResponseError";
    this.status = status;
    this.errors = errors;
  }
  /** the first OCI error code, if the body had one */
  get code(): string | undefined {
    return this.errors[0]?.code;
  }
}

/** The OCI error code (`MANIFEST_UNKNOWN`, ...) carried by `err` or its causes. */
export function ociErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof RegistryResponseError) return e.code;
  }
  return undefined;
}

const SUMMARY: Record<string, string> = {
  BLOB_UNKNOWN: "blob unknown",
  BLOB_UPLOAD_INVALID: "blob upload invalid",
  BLOB_UPLOAD_UNKNOWN: "blob upload unknown",
  DIGEST_INVALID: "digest invalid",
  MANIFEST_BLOB_UNKNOWN: "manifest blob unknown",
  MANIFEST_INVALID: "manifest invalid",
  MANIFEST_UNKNOWN: "manifest unknown",
  NAME_INVALID: "invalid repository name",
  NAME_UNKNOWN: "repository name unknown",
  SIZE_INVALID: "size invalid",
  UNAUTHORIZED: "unauthorized",
  DENIED: "denied",
  UNSUPPORTED: "unsupported",
  TOOMANYREQUESTS: "too many requests",
  RANGE_INVALID: "range invalid",
  TAG_INVALID: "tag invalid",
};

/** Parses an OCI error body; [] for anything else. */
export function parseErrorBody(text: string): OciErrorEntry[] {
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== "object" || body === null || !("errors" in body) || !Array.isArray(body.errors)) return [];
    const out: OciErrorEntry[] = [];
    for (const e of body.errors as unknown[]) {
      if (typeof e !== "object" || e === null || !("code" in e) || typeof e.code !== "string") continue;
      const entry: OciErrorEntry = { code: e.code };
      if ("message" in e && typeof e.message === "string") entry.message = e.message;
      if ("detail" in e) entry.detail = e.detail;
      out.push(entry);
    }
    return out;
  } catch {
    return [];
  }
}

function describe(status: number, statusText: string, code: string | undefined, serverMessage: string | undefined, s: ErrorSubject): string {
  const where = `registry ${s.host}`;
  const detail = serverMessage ? `: ${serverMessage}` : "";
  switch (status) {
    case 401:
      return `${code ? SUMMARY[code] ?? "unauthorized" : "unauthorized"}: ${where} refused to let the client ${s.verb} ${s.what}; ` +
        "the repository may not exist, or it may require login with other credentials";
    case 403:
      return `denied: ${where} denied access to ${s.verb} ${s.what}${detail}`;
    case 404:
      return `${code ? SUMMARY[code] ?? "not found" : "not found"}: ${where} has no ${s.what}`;
    case 405:
      return `unsupported: ${where} does not support the request to ${s.verb} ${s.what}${detail}`;
    case 429:
      return `too many requests: ${where} is rate limiting requests to ${s.verb} ${s.what}; retry later`;
    default:
      if (status >= 500 || status === 408) return `unavailable: ${where} answered ${status} ${statusText} to ${s.verb} ${s.what}${detail}`;
      return `${code ? SUMMARY[code] ?? code.toLowerCase() : `HTTP ${status}`}: ${where} rejected the request to ${s.verb} ${s.what}${detail}`;
  }
}

/** The error class for a status: what the caller should do about it. */
export function errorForStatus(status: number, message: string, options?: ErrorOptions): PodyardError {
  switch (status) {
    case 401: return new UnauthenticatedError(message, options);
    case 403: return new PermissionDeniedError(message, options);
    case 404: return new NotFoundError(message, options);
    case 405:
    case 501: return new NotImplementedError(message, options);
    case 409: return new AlreadyExistsError(message, options);
    case 416: return new OutOfRangeError(message, options);
    case 429: return new ResourceExhaustedError(message, options);
    case 408: return new UnavailableError(message, options);
    default:
      if (status >= 500) return new UnavailableError(message, options);
      if (status >= 400) return new InvalidArgumentError(message, options);
      return new PodyardError("Internal", message, options);
  }
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
  const cause = new RegistryResponseError(res.status, errors, `${res.status} ${res.statusText}${text ? `: ${text.slice(0, 512)}` : ""}`);
  return errorForStatus(res.status, message, { cause });
}
