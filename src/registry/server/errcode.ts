/**
 * The OCI distribution error codes, each registered once with its HTTP status and
 * default message (distribution's errcode/register.go). Handlers throw
 * `RegistryError`s; only the edge (`writeError`) turns them into response bodies.
 */
import { errorClass } from "../../errdefs/index.js";

interface CodeDescriptor {
  readonly status: number;
  readonly message: string;
}

function defineCodes<const T extends Record<string, CodeDescriptor>>(codes: T): T {
  const seen = new Set<string>();
  for (const code of Object.keys(codes)) {
    if (seen.has(code)) throw new Error(`error code ${code} registered twice`);
    seen.add(code);
  }
  return Object.freeze(codes);
}

export const OCI_CODES = defineCodes({
  BLOB_UNKNOWN: { status: 404, message: "blob unknown to registry" },
  BLOB_UPLOAD_INVALID: { status: 400, message: "blob upload invalid" },
  BLOB_UPLOAD_UNKNOWN: { status: 404, message: "blob upload unknown to registry" },
  DIGEST_INVALID: { status: 400, message: "provided digest did not match uploaded content" },
  MANIFEST_BLOB_UNKNOWN: { status: 400, message: "manifest references a manifest or blob unknown to registry" },
  MANIFEST_INVALID: { status: 400, message: "manifest invalid" },
  MANIFEST_UNKNOWN: { status: 404, message: "manifest unknown to registry" },
  NAME_INVALID: { status: 400, message: "invalid repository name" },
  NAME_UNKNOWN: { status: 404, message: "repository name not known to registry" },
  SIZE_INVALID: { status: 400, message: "provided length did not match content length" },
  UNAUTHORIZED: { status: 401, message: "authentication required" },
  DENIED: { status: 403, message: "requested access to the resource is denied" },
  UNSUPPORTED: { status: 405, message: "the operation is unsupported" },
  TOOMANYREQUESTS: { status: 429, message: "too many requests" },
  RANGE_INVALID: { status: 416, message: "invalid content range" },
  PAGINATION_NUMBER_INVALID: { status: 400, message: "invalid number of results requested" },
  QUERY_PARAMETER_INVALID: { status: 400, message: "invalid query parameter" },
  TAG_INVALID: { status: 400, message: "manifest tag did not match URI" },
  UNAVAILABLE: { status: 503, message: "service unavailable" },
  UNKNOWN: { status: 500, message: "unknown error" },
});

export type OciErrorCode = keyof typeof OCI_CODES;

export interface RegistryErrorOptions extends ErrorOptions {
  /** Overrides the code's usual status (e.g. 413 for an oversize manifest, 416 for a bad chunk). */
  status?: number;
  detail?: unknown;
  headers?: Record<string, string>;
}

export class RegistryError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail: unknown;
  readonly headers: Record<string, string>;
  constructor(code: OciErrorCode, message?: string, options: RegistryErrorOptions = {}) {
    super(message ?? OCI_CODES[code].message, options);
    this.name = "RegistryError";
    this.code = code;
    this.status = options.status ?? OCI_CODES[code].status;
    this.detail = options.detail;
    this.headers = options.headers ?? {};
  }
}

/** Turns any thrown value into the RegistryError the client will see. */
export function toRegistryError(err: unknown): RegistryError {
  if (err instanceof RegistryError) return err;
  const message = err instanceof Error ? err.message : String(err);
  switch (errorClass(err)) {
    case "InvalidArgument": return new RegistryError("QUERY_PARAMETER_INVALID", message, { cause: err });
    case "NotFound": return new RegistryError("BLOB_UNKNOWN", message, { cause: err });
    case "Unavailable": return new RegistryError("UNAVAILABLE", message, { cause: err });
    case "Unauthenticated": return new RegistryError("UNAUTHORIZED", message, { cause: err });
    case "PermissionDenied": return new RegistryError("DENIED", message, { cause: err });
    case "ResourceExhausted": return new RegistryError("TOOMANYREQUESTS", message, { cause: err });
    case "NotImplemented": return new RegistryError("UNSUPPORTED", message, { cause: err });
    default: return new RegistryError("UNKNOWN", message, { cause: err });
  }
}

/** The JSON body of an error response: `{"errors":[{code,message,detail}]}`. */
export function errorBody(err: RegistryError): string {
  const entry: Record<string, unknown> = { code: err.code, message: err.message };
  if (err.detail !== undefined) entry.detail = err.detail;
  return JSON.stringify({ errors: [entry] });
}
