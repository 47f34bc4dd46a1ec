/**
 * Durable small-file writes, shared by every part that keeps state on disk: write to
 * a temporary sibling, fsync, rename into place (atomic on one filesystem), and fsync
 * the directory so the rename survives a power cut.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoCode } from "../errdefs/index.js";
import { noSpaceError } from "./no-space.js";

export interface WriteFileAtomicOptions {
  /** file mode of the new file (default 0644) */
  mode?: number;
  /** create the parent directories first, with this mode (default: they must exist) */
  mkdirMode?: number;
  /** also fsync the directory after the rename, so the rename survives a power cut (default false) */
  syncDir?: boolean;
  /** fsync the data before the rename (default true); without it the file is still whole or absent after a kill -9, only a power cut may lose it */
  sync?: boolean;
}

const TEMP_SUFFIX = /\.tmp-[0-9a-f]{12}$/;

/** The temporary sibling `writeFileAtomic` writes first: `<name>.tmp-<12 hex digits>`. */
export function tempPathFor(path: string): string {
  return `${path}.tmp-${randomBytes(6).toString("hex")}`;
}

/** True for a name `tempPathFor` makes: such files exist only while a write runs, or after a crash. */
export function isTempName(name: string): boolean {
  return TEMP_SUFFIX.test(name);
}

/**
 * Writes `data` to `path` so that readers see either the old or the new file, never a
 * mix: a temporary sibling is written, fsynced and renamed over `path`. The one atomic
 * small-file write of podyard; on failure the temporary file is removed.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: WriteFileAtomicOptions = {}): Promise<void> {
  if (opts.mkdirMode !== undefined) await mkdir(dirname(path), { recursive: true, mode: opts.mkdirMode });
  const tmp = tempPathFor(path);
  try {
    const fh = await open(tmp, "wx", opts.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      if (opts.sync !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw noSpaceError(err, path);
  }
  if (opts.syncDir) await syncDir(dirname(path));
}

/** fsyncs a directory, making renames and links inside it durable. */
export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The content of `path`, or undefined when there is no such file; other errors are thrown. */
export async function readFileIfExists(path: string): Promise<Buffer | undefined>;
export async function readFileIfExists(path: string, encoding: "utf8"): Promise<string | undefined>;
export async function readFileIfExists(path: string, encoding?: "utf8"): Promise<Buffer | string | undefined> {
  try {
    return encoding === undefined ? await readFile(path) : await readFile(path, encoding);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/** True when `path` exists (any kind of file); other errors than ENOENT/ENOTDIR are thrown. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return false;
    throw err;
  }
}
export { acquireLock } from "./home-lock.js";
export type { LockOptions, ReleaseLock } from "./home-lock.js";
export { lockHolders } from "./lock-holders.js";
export { isOutOfSpace, noSpaceError } from "./no-space.js";
export { fileError } from "./file-error.js";
export { exitOnSignals, removeOnExit } from "./exit-cleanup.js";
export { DEFAULT_RESERVE_BYTES, keepSpaceReserve } from "./space-reserve.js";
export type { SpaceReserveOptions } from "./space-reserve.js";
export { BufferPool } from "./buffer-pool.js";
export { podyardHome } from "./podyard-home.js";
export type { PodyardHomeSource } from "./podyard-home.js";
