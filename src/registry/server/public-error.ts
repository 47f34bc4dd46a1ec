/**
 * What a client is told about a failure. Errors the registry raised for clients
 * (RegistryErrors) are shown as they are. Any other failure that ends in a 5xx (a
 * storage error, a bug) shows only its code's generic message, without the server's
 * paths or stack: the details go to the server's log.
 */
import { RegistryError, toRegistryError } from "./errcode.js";

export function publicError(err: unknown): RegistryError {
  const e = toRegistryError(err);
  if (err instanceof RegistryError || e.status < 500) return e;
  return new RegistryError(e.code, undefined, { status: e.status, headers: e.headers });
}
