/**
 * How a failed command reports itself: one line on stderr, `podyard: error: <message>`,
 * naming the input that was wrong; the stack trace (and each cause's) only with --debug.
 */
import { InvalidReferenceError } from "../reference/index.js";

export const ERROR_PREFIX = "podyard: error: ";

/** The one-line message for `err`: its message on one line, with a bad reference's input named. */
export function errorLine(err: unknown): string {
  let line = (err instanceof Error ? err.message : String(err)).replace(/\s*\n\s*/g, " ").trim();
  const ref = findReferenceError(err);
  if (ref && !line.includes(JSON.stringify(ref.input))) line = `${line}: ${JSON.stringify(ref.input)}`;
  return line;
}

/** What stderr gets for `err`: the line, then with `debug` the stack of it and each cause. */
export function errorReport(err: unknown, debug: boolean): string {
  let out = `${ERROR_PREFIX}${errorLine(err)}\n`;
  if (!debug) return out;
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 16; e = e instanceof Error ? e.cause : undefined, depth++) {
    out += `${depth === 0 ? "" : "caused by: "}${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
  }
  return out;
}

/** The outermost reference error in the cause chain: the input the user gave. */
function findReferenceError(err: unknown): InvalidReferenceError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 16; e = e.cause, depth++) {
    if (e instanceof InvalidReferenceError) return e;
  }
  return undefined;
}
