/** Files named by command-line flags, read with errors that name the flag. */
import { readFile } from "node:fs/promises";
import { InvalidArgumentError } from "../errdefs/index.js";

/** A file a flag names, or a usage error (exit 2) naming the flag and the file: `--tls-cert /x: no such file`. */
export async function readFlagFile(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "a directory, not a file" : (err as Error).message;
    throw new InvalidArgumentError(`${flag} ${path}: ${why}`, { cause: err });
  }
}
