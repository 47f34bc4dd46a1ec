/**
 * What a client is told about a failure. Errors the registry raised for clients
 * (RegistryErrors) are shown as they are. Any other failure that ends in a 5xx (a
 * storage error, a bug) shows only its code's generic message, without the server's
 * paths or stack: the details go to the server's log.
 *
 * A full disk (ENOSPC, EDQUOT, however wrapped) is the server's failure too: 507
 * Insufficient Storage, UNKNOWN, "no space left on the registry's storage". It is not
 * the TOOMANYREQUESTS 429 its error class (ResourceExhausted) would give: that code means
 * rate limiting, which clients wait for and retry, and its message would show the path.
 */
import { isOutOfSpace } from "../../fsutil/index.js";
import type { OciResource } from "../api/index.js";
import { RegistryError, toRegistryError } from "./errcode.js";

/** `err` as the client sees it; a NotFound names what was not found by `resource`. */
export function publicError(err: unknown, resource?: OciResource): RegistryError {
  if (!(err instanceof RegistryError) && isOutOfSpace(err)) {
    return new RegistryError("UNKNOWN", "no space left on the registry's storage", { status: 507 });
  }
  const e = toRegistryError(err, resource);
  if (err instanceof RegistryError || e.status < 500) return e;
  return new RegistryError(e.ociCode, undefined, { status: e.status, headers: e.headers, class: e.code });
}
