/**
 * When to retry a registry request and how long to wait, as pure functions:
 * network errors, 408, 429 and 5xx (but not 501, 505 or 507: not implemented, version
 * unsupported and a registry's full storage stay so for a while) are transient; the wait doubles
 * from `initialMs` up to `maxMs`, or is what `Retry-After` says.
 */
import { causeChain, hasErrorCode } from "../../errdefs/index.js";
import { isTimeout } from "./timeouts.js";

export interface RetryPolicy {
  /** attempts in all, the first included (Docker: 5) */
  maxAttempts: number;
  initialMs: number;
  maxMs: number;
  /** a Retry-After longer than this is not waited for: the response is returned as is */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, initialMs: 500, maxMs: 10_000, maxRetryAfterMs: 60_000 };

/**
 * Attempts in all for a request that failed with `err`: a refused connection (nothing
 * listens there) gets one more try, after `initialMs`, as a registry restarting would
 * need, and so do a host name that does not exist (ENOTFOUND: a typo, or a registry
 * that is gone) and a timeout (a registry that does not answer, see timeouts.ts); other
 * network failures get the policy's `maxAttempts`; a certificate the client refuses gets
 * none, as it would be the same certificate again. A pull from a registry that is down
 * or misspelt then fails in half a second, as docker's does, not after the full
 * back-off, and one from a registry that hangs after two timeouts, not five.
 */
export function attemptsFor(err: unknown, policy: Pick<RetryPolicy, "maxAttempts">): number {
  if (isCertificateError(err)) return 1; // the next handshake gets the same certificate
  const hopeless = hasErrorCode(err, "ECONNREFUSED") || hasErrorCode(err, "ENOTFOUND") || isTimeout(err);
  return hopeless ? Math.min(policy.maxAttempts, 2) : policy.maxAttempts;
}

/** A TLS certificate the client does not accept (self-signed, expired, for another name, unknown issuer). */
function isCertificateError(err: unknown): boolean {
  for (const e of causeChain(err)) if ("code" in e && typeof e.code === "string" && CERTIFICATE_ERRORS.test(e.code)) return true;
  return false;
}

const CERTIFICATE_ERRORS = /^(CERT_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE)|ERR_TLS_CERT_ALTNAME_INVALID$)/;

export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505 && status !== 507);
}

/** The wait before attempt `attempt + 1`, after `attempt` failures (1-based). */
export function backoffMs(attempt: number, policy: Pick<RetryPolicy, "initialMs" | "maxMs">): number {
  return Math.min(policy.initialMs * 2 ** Math.max(attempt - 1, 0), policy.maxMs);
}

/** `Retry-After` in milliseconds (delta-seconds or an HTTP date), or undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(at - now, 0);
}

/** True for errors worth another attempt: network failures, not aborts or our own checks. */
export function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "AbortError" || err.name === "TimeoutError") return false;
  // undici's fetch rejects with TypeError("fetch failed") and the socket error as its cause;
  // a body cut mid-stream errors with TypeError("terminated") or a socket error.
  if (err instanceof TypeError && (err.message === "fetch failed" || err.message === "terminated")) return true;
  if (err.cause !== undefined && err.cause !== err && isNetworkError(err.cause)) return true;
  const code = "code" in err && typeof err.code === "string" ? err.code : "";
  return code.startsWith("ECONN") || code.startsWith("UND_ERR") || code === "EPIPE" || code === "ETIMEDOUT" ||
    code === "EAI_AGAIN" || code === "ENETUNREACH" || code === "EHOSTUNREACH";
}

/** What a network error says: fetch's `TypeError("fetch failed" | "terminated")` tells it in its cause. */
export function networkErrorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? err.cause.message : err.message;
}
