/**
 * How long the client waits on a registry before giving up on a request:
 * - `connectMs`: for the TCP connection and, over HTTPS, the TLS handshake (default 30 s);
 * - `responseMs`: from the request sent to the response head (default 60 s);
 * - `bodyIdleMs`: for the next bytes of a response body, while the reader keeps up, and for
 *   the server to take the next bytes of an upload (default 60 s).
 * A request that times out fails as a network error with code `ETIMEDOUT` and a message
 * naming the host and what did not come: `127.0.0.1:5000: no response within 60s`.
 * The environment changes the defaults for a process: PODYARD_REGISTRY_CONNECT_TIMEOUT,
 * PODYARD_REGISTRY_RESPONSE_TIMEOUT and PODYARD_REGISTRY_BODY_TIMEOUT, each a duration
 * (`30s`, `500ms`, `2m`, or a number of seconds); callers may pass their own to
 * RegistryClient and Resolver, which win.
 */
import { hasErrorCode, InvalidArgumentError } from "../../errdefs/index.js";

export interface ClientTimeouts {
  connectMs: number;
  responseMs: number;
  bodyIdleMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ClientTimeouts> = { connectMs: 30_000, responseMs: 60_000, bodyIdleMs: 60_000 };

/** The variable that sets each timeout's default. */
export const TIMEOUT_ENV: Readonly<Record<keyof ClientTimeouts, string>> = {
  connectMs: "PODYARD_REGISTRY_CONNECT_TIMEOUT",
  responseMs: "PODYARD_REGISTRY_RESPONSE_TIMEOUT",
  bodyIdleMs: "PODYARD_REGISTRY_BODY_TIMEOUT",
};

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** The timeouts the environment sets; throws naming the variable when one is not a duration above 0. */
export function timeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ClientTimeouts> {
  const out: Partial<ClientTimeouts> = {};
  for (const [key, name] of Object.entries(TIMEOUT_ENV) as [keyof ClientTimeouts, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
    const ms = m ? Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1000)) : 0;
    if (ms <= 0) throw new InvalidArgumentError(`${name}=${JSON.stringify(raw)}: want a duration above 0 such as 30s, 500ms or 2m`);
    out[key] = ms;
  }
  return out;
}

/** The defaults, then the environment's (timeoutsFromEnv), then `given`: the later wins. */
export function timeoutsWith(...given: (Partial<ClientTimeouts> | undefined)[]): ClientTimeouts {
  const out: ClientTimeouts = { ...DEFAULT_TIMEOUTS };
  for (const g of [timeoutsFromEnv(), ...given]) {
    if (g?.connectMs !== undefined) out.connectMs = g.connectMs;
    if (g?.responseMs !== undefined) out.responseMs = g.responseMs;
    if (g?.bodyIdleMs !== undefined) out.bodyIdleMs = g.bodyIdleMs;
  }
  return out;
}

/** `30s`, or `250ms` below a whole second. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** What did not arrive in time. */
export type TimeoutPhase = "connect" | "tls" | "upload" | "response" | "body";

const WHAT: Record<TimeoutPhase, string> = {
  connect: "no connection",
  tls: "no TLS handshake",
  upload: "upload stalled: the server took no data",
  response: "no response",
  body: "response body stalled: no data",
};

/** The error for a request to `host` that timed out in `phase` after `ms`. */
export function timeoutError(host: string, phase: TimeoutPhase, ms: number): Error {
  const err = new Error(`${host}: ${WHAT[phase]} ${phase === "body" || phase === "upload" ? "for" : "within"} ${formatDuration(ms)}`);
  return Object.assign(err, { code: "ETIMEDOUT", phase });
}

/** True when `err` or one of its causes is a timeout: the server is there but does not answer. */
export function isTimeout(err: unknown): boolean {
  return hasErrorCode(err, "ETIMEDOUT");
}
