// The flag handling both benchmarks share: strict parsing, a usage error for a bad flag, and
// --help. Each benchmark keeps its own flags, defaults and value checks.
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Thrown for a bad flag; `optionsOrExitCode` prints it with the usage text and gives exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** `argv` parsed strictly (no positionals, no unknown flags) against `options`; parse errors become UsageErrors. */
export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(argv: readonly string[], options: T): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>["values"] {
  try {
    return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/** A flag's positive integer value, `fallback` when the flag is absent; else a UsageError naming the flag. */
export function positiveIntFlag(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--${name}: want a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The options `parse` makes of `argv`, or the exit code once it has printed the usage text:
 * 0 for --help (`parse` returned undefined), 2 for a bad flag.
 */
export function optionsOrExitCode<T>(argv: readonly string[], parse: (argv: readonly string[]) => T | undefined, usage: string): T | number {
  let opts: T | undefined;
  try {
    opts = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n\n${usage}`);
    return 2;
  }
  if (opts === undefined) {
    process.stdout.write(usage);
    return 0;
  }
  return opts;
}
