/**
 * How a failed command reports itself: one line on stderr, `podyard: error: <message>`,
 * naming the input that was wrong; the stack trace (and each cause's) only with --debug.
 */
import { causeChain, findCause } from "../errdefs/index.js";
import { InvalidReferenceError } from "../reference/index.js";

export const ERROR_PREFIX = "podyard: error: ";

/** The one-line message for `err`: its message on one line, with a bad reference's input named. */
export function errorLine(err: unknown): string {
  let line = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ").trim();
  const ref = findCause(err, InvalidReferenceError);
  if (ref && !line.includes(JSON.stringify(ref.input))) line = `${line}: ${JSON.stringify(ref.input)}`;
  return line;
}

/** What stderr gets for `err`: the line, then with `debug` the stack of it and each cause. */
export function errorReport(err: unknown, debug: boolean): string {
  let out = `${ERROR_PREFIX}${errorLine(err)}\n`;
  if (!debug) return out;
  if (!(err instanceof Error)) return `${out}${String(err)}\n`;
  for (const e of causeChain(err)) out += `${e === err ? "" : "caused by: "}${e.stack ?? e.message}\n`;
  return out;
}
