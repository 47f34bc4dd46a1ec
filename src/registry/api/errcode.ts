/**
 * The OCI distribution error codes, each registered once with its HTTP status, its
 * default message and the podyard error class it belongs to (distribution's
 * errcode/register.go). The server writes these codes; the client reads them back.
 * Both go through this one table, and through `wireCode`/`classForStatus` for the
 * error classes of src/errdefs.
 */
import { causeChain, errorClass, PodyardError, type ErrorClass } from "../../errdefs/index.js";

interface CodeDescriptor {
  readonly status: number;
  /** the message distribution writes, word for word */
  readonly message: string;
  /** the class a podyard error of this code has */
  readonly class: ErrorClass;
  /** the start of a client's one-line message: "manifest unknown: registry … has no …" */
  readonly summary: string;
}

/**
 * The table, frozen and checked to be made of descriptors. A code written twice cannot
 * slip in as in Go's register.go: TypeScript refuses a duplicate key in an object literal.
 */
function defineCodes<const T extends Record<string, CodeDescriptor>>(codes: T): T {
  return Object.freeze(codes);
}

export const OCI_CODES = defineCodes({
  BLOB_UNKNOWN: { status: 404, class: "NotFound", message: "blob unknown to registry", summary: "blob unknown" },
  BLOB_UPLOAD_INVALID: { status: 400, class: "InvalidArgument", message: "blob upload invalid", summary: "blob upload invalid" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, class: "NotFound", message: "blob upload unknown to registry", summary: "blob upload unknown" },
  DIGEST_INVALID: { status: 400, class: "InvalidArgument", message: "provided digest did not match uploaded content", summary: "digest invalid" },
  MANIFEST_BLOB_UNKNOWN: {
    status: 400, class: "InvalidArgument", message: "manifest references a manifest or blob unknown to registry", summary: "manifest blob unknown",
  },
  MANIFEST_INVALID: { status: 400, class: "InvalidArgument", message: "manifest invalid", summary: "manifest invalid" },
  MANIFEST_UNKNOWN: { status: 404, class: "NotFound", message: "manifest unknown to registry", summary: "manifest unknown" },
  NAME_INVALID: { status: 400, class: "InvalidArgument", message: "invalid repository name", summary: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, class: "NotFound", message: "repository name not known to registry", summary: "repository name unknown" },
  SIZE_INVALID: { status: 400, class: "InvalidArgument", message: "provided length did not match content length", summary: "size invalid" },
  UNAUTHORIZED: { status: 401, class: "Unauthenticated", message: "authentication required", summary: "unauthorized" },
  DENIED: { status: 403, class: "PermissionDenied", message: "requested access to the resource is denied", summary: "denied" },
  UNSUPPORTED: { status: 405, class: "NotImplemented", message: "the operation is unsupported", summary: "unsupported" },
  TOOMANYREQUESTS: { status: 429, class: "ResourceExhausted", message: "too many requests", summary: "too many requests" },
  RANGE_INVALID: { status: 416, class: "OutOfRange", message: "invalid content range", summary: "range invalid" },
  PAGINATION_NUMBER_INVALID: {
    status: 400, class: "InvalidArgument", message: "invalid number of results requested", summary: "pagination number invalid",
  },
  QUERY_PARAMETER_INVALID: { status: 400, class: "InvalidArgument", message: "invalid query parameter", summary: "query parameter invalid" },
  TAG_INVALID: { status: 400, class: "InvalidArgument", message: "manifest tag did not match URI", summary: "tag invalid" },
  UNAVAILABLE: { status: 503, class: "Unavailable", message: "service unavailable", summary: "unavailable" },
  UNKNOWN: { status: 500, class: "Internal", message: "unknown error", summary: "unknown" },
});

export type OciErrorCode = keyof typeof OCI_CODES;

export function isOciErrorCode(code: string): code is OciErrorCode {
  return Object.hasOwn(OCI_CODES, code);
}

/** What a NotFound error is about, which picks its code: BLOB_UNKNOWN, MANIFEST_UNKNOWN, ... */
export type OciResource = "blob" | "manifest" | "repository" | "upload";

const NOT_FOUND: Record<OciResource, OciErrorCode> = {
  blob: "BLOB_UNKNOWN",
  manifest: "MANIFEST_UNKNOWN",
  repository: "NAME_UNKNOWN",
  upload: "BLOB_UPLOAD_UNKNOWN",
};

/**
 * Each error class on the wire: its OCI code and status. The status follows containerd's
 * errhttp (AlreadyExists 409, FailedPrecondition 412); classes without a spec code of their
 * own are UNKNOWN with that status, so only Internal becomes a 500.
 */
export const CLASS_WIRE: Readonly<Record<ErrorClass, { code: OciErrorCode; status: number }>> = Object.freeze({
  InvalidArgument: { code: "QUERY_PARAMETER_INVALID", status: 400 },
  NotFound: { code: "BLOB_UNKNOWN", status: 404 },
  AlreadyExists: { code: "UNKNOWN", status: 409 },
  FailedPrecondition: { code: "UNKNOWN", status: 412 },
  Unavailable: { code: "UNAVAILABLE", status: 503 },
  PermissionDenied: { code: "DENIED", status: 403 },
  Unauthenticated: { code: "UNAUTHORIZED", status: 401 },
  ResourceExhausted: { code: "TOOMANYREQUESTS", status: 429 },
  OutOfRange: { code: "RANGE_INVALID", status: 416 },
  Aborted: { code: "UNKNOWN", status: 409 },
  NotImplemented: { code: "UNSUPPORTED", status: 405 },
  Internal: { code: "UNKNOWN", status: 500 },
});

/** The OCI code and status for an error of class `cls` about `resource` (NotFound picks its code by resource). */
export function wireCode(cls: ErrorClass, resource?: OciResource): { code: OciErrorCode; status: number } {
  const wire = CLASS_WIRE[cls];
  return cls === "NotFound" && resource !== undefined ? { code: NOT_FOUND[resource], status: wire.status } : wire;
}

/**
 * The class of a failed response, from its status: what the caller should do about it.
 * 5xx and 408 are Unavailable (worth a retry), whatever the body says.
 */
export function classForStatus(status: number): ErrorClass {
  switch (status) {
    case 400: return "InvalidArgument";
    case 401: return "Unauthenticated";
    case 403: return "PermissionDenied";
    case 404: return "NotFound";
    case 405:
    case 501: return "NotImplemented";
    case 408: return "Unavailable";
    case 409: return "AlreadyExists";
    case 412: return "FailedPrecondition";
    case 416: return "OutOfRange";
    case 429: return "ResourceExhausted";
    default:
      if (status >= 500) return "Unavailable";
      if (status >= 400) return "InvalidArgument";
      return "Internal";
  }
}

/** One entry of an OCI error body: `{"errors":[{"code":"…","message":"…","detail":…}]}`. */
export interface OciErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegistryErrorOptions extends ErrorOptions {
  /** Overrides the code's usual status (e.g. 413 for an oversize manifest, 416 for a bad chunk). */
  status?: number;
  /** Overrides the code's class (an AlreadyExists error answered as UNKNOWN 409 stays AlreadyExists). */
  class?: ErrorClass;
  detail?: unknown;
  headers?: Record<string, string>;
}

/**
 * An error with an OCI code, as the server answers it: a PodyardError of the code's class
 * (NAME_UNKNOWN is a NotFoundError's class, DENIED a PermissionDenied one).
 */
export class RegistryError extends PodyardError {
  readonly ociCode: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;
  constructor(code: OciErrorCode, message?: string, options: RegistryErrorOptions = {}) {
    super(options.class ?? OCI_CODES[code].class, message ?? OCI_CODES[code].message, options);
    this.ociCode = code;
    this.status = options.status ?? OCI_CODES[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/**
 * The OCI error code (`MANIFEST_UNKNOWN`, ...) carried by `err` or its causes: a server's
 * RegistryError, or the response a client's error came from.
 */
export function ociErrorCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    if (e instanceof PodyardError && "ociCode" in e) return typeof e.ociCode === "string" ? e.ociCode : undefined;
  }
  return undefined;
}

/**
 * Turns any thrown value into the RegistryError a client will see: the code its chain
 * already carries (an upstream's MANIFEST_UNKNOWN stays MANIFEST_UNKNOWN), else the
 * wire code of its class, NotFound by `resource`.
 */
export function toRegistryError(err: unknown, resource?: OciResource): RegistryError {
  if (err instanceof RegistryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const cls = errorClass(err) ?? "Internal";
  const carried = ociErrorCode(err);
  if (carried !== undefined && isOciErrorCode(carried) && OCI_CODES[carried].class === cls) return new RegistryError(carried, message, { cause: err });
  const { code, status } = wireCode(cls, resource);
  return new RegistryError(code, message, { cause: err, status, class: cls });
}

/** The JSON body of an error response: `{"errors":[{code,message,detail}]}`. */
export function errorBody(err: RegistryError): string {
  const entry: Record<string, unknown> = { code: err.ociCode, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;
  return JSON.stringify({ errors: [entry] });
}

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
