/**
 * tar-stream, loaded on first use: commands that never write or read a tar archive
 * (a pull, `images`) do not pay for loading it at start-up.
 */
import { createRequire } from "node:module";

type TarStream = typeof import("tar-stream");

let loaded: TarStream | undefined;

export function tarStream(): TarStream {
  loaded ??= createRequire(import.meta.url)("tar-stream") as TarStream;
  return loaded;
}
