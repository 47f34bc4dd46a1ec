/**
 * An upstream registry's failure as the pull-through cache answers it. Unreachable
 * (refused, no such host, timed out) is 503 UNAVAILABLE; an upstream that answered
 * with a failure (or with a manifest over the size cap) is 502, naming its answer; upstream
 * rate limiting (its 429) is 429. The message
 * names the upstream and why, e.g.
 * `upstream registry http://127.0.0.1:5000 unreachable: connection refused`.
 * Errors that are not the client's (a local storage error) pass through unchanged.
 */
import { causeChain, errorClass, findCause } from "../../errdefs/index.js";
import { RegistryResponseError, responseStatus } from "../client/index.js";
import { RegistryError } from "./errcode.js";

/** Network failures that mean the upstream could not be reached at all. */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
};

export function upstreamError(remote: string, err: unknown): unknown {
  if (err instanceof RegistryError || errorClass(err) === undefined) return err;
  const message = err instanceof Error ? err.message : String(err);
  const unreachable = unreachableReason(err);
  if (unreachable !== undefined) {
    return new RegistryError("UNAVAILABLE", `upstream registry ${remote} unreachable: ${unreachable}`, { status: 503, cause: err });
  }
  // only the upstream's own 429 is a rate limit; the client's other ResourceExhausted errors
  // (a manifest over the size cap) are bad answers, as any other
  if (responseStatus(err) === 429) {
    // the wait upstream asks for is the wait our client needs too
    const retryAfter = findCause(err, RegistryResponseError)?.retryAfter;
    return new RegistryError("TOOMANYREQUESTS", `upstream registry ${remote}: ${message}`, {
      cause: err, ...(retryAfter !== undefined ? { headers: { "Retry-After": retryAfter } } : {}),
    });
  }
  const code = errorClass(err) === "Unavailable" ? "UNAVAILABLE" : "UNKNOWN";
  return new RegistryError(code, `upstream registry ${remote}: ${message}`, { status: 502, cause: err });
}

function unreachableReason(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const code = "code" in e && typeof e.code === "string" ? e.code : undefined;
    if (code !== undefined && Object.hasOwn(UNREACHABLE, code)) return UNREACHABLE[code];
    if (e instanceof AggregateError) {
      const first: unknown = e.errors[0];
      const inner = unreachableReason(first);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}
