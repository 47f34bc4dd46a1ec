/** Parsers for command-line values, each failing with a message that names the flag. */
import { InvalidArgumentError, Option } from "commander";

/** `host:port` (IPv6 in brackets); port 0 picks a free one. */
export function parseAddr(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) throw new InvalidArgumentError(`want host:port, got ${JSON.stringify(value)}`);
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}

/** A duration such as `90s`, `15m`, `1h`, `7d` or plain milliseconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(value);
  if (!m) throw new InvalidArgumentError(`want a duration like 30s, 15m, 1h or 7d, got ${JSON.stringify(value)}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 }[m[2] ?? "ms"] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`want a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * An option with a default that help shows as a user would type it (`127.0.0.1:5000`,
 * `1h`), not as the parsed value commander would print (`{"host":…}`, `3600000`).
 */
export function optionWithDefault(flags: string, description: string, typed: string, parse?: (value: string) => unknown): Option {
  const option = new Option(flags, description);
  if (parse) option.argParser(parse);
  return option.default(parse ? parse(typed) : typed, typed);
}
