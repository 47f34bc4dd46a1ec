/**
 * A reserve of disk space kept in a state directory: a file of incompressible bytes that
 * gives its room back when the disk is full, so that the commands which read and remove
 * still run there (SQLite needs a little room to open its WAL index and to log a
 * delete). Made again once the disk has room.
 */
import { randomBytes } from "node:crypto";
import { rm, stat, statfs, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoCode } from "../errdefs/index.js";

export interface SpaceReserveOptions {
  /** size of the reserve (default 256 KiB) */
  bytes?: number;
  /** make (or complete) the reserve when the disk has room for it twice over; default false */
  refill?: boolean;
}

export const DEFAULT_RESERVE_BYTES = 256 * 1024;

/** Bytes free for this process on the filesystem of `dir`. */
async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return 0;
    throw err;
  }
}

/**
 * Keeps the reserve at `path`: removes it when less than its size is free (returning
 * true), and with `refill` writes it when there is room. Best effort: a filesystem that
 * cannot tell its free space keeps no reserve.
 */
export async function keepSpaceReserve(path: string, opts: SpaceReserveOptions = {}): Promise<boolean> {
  const bytes = opts.bytes ?? DEFAULT_RESERVE_BYTES;
  try {
    const free = await freeBytes(dirname(path));
    const have = await sizeOf(path);
    if (free < bytes) {
      if (have === 0) return false;
      await rm(path, { force: true });
      return true;
    }
    if (opts.refill && have < bytes && free >= 2 * bytes) {
      // random bytes: a filesystem that compresses would store zeros in no space at all
      await writeFile(path, randomBytes(bytes)).catch(() => rm(path, { force: true }));
    }
  } catch {
    // no reserve then
  }
  return false;
}
