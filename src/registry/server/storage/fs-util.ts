/** Small filesystem helpers: atomic writes, tolerant reads and directory listings. */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm, rmdir } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoCode } from "../../../errdefs/index.js";
import { syncDir, writeFileAtomic as writeAtomic } from "../../../fsutil/index.js";

const TEMP_SUFFIX = /\.tmp-[0-9a-f]{12}$/;

/** True for the temporary files `writeFileAtomic` leaves only while it runs (or after a crash). */
export function isTempName(name: string): boolean {
  return TEMP_SUFFIX.test(name);
}

/** Writes `data` to `path` atomically: temp file, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeAtomic(path, data, { tempPath: (p) => `${p}.tmp-${randomBytes(6).toString("hex")}`, syncDir: true });
}

export { syncDir as fsyncDir };

/** The file's text, or undefined when it does not exist. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return undefined;
    throw err;
  }
}

/** Directory entries, or [] when the directory does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return [];
    throw err;
  }
}

/** Removes a file, ignoring one that is already gone; then removes empty parents up to `stopAt`. */
export async function removeFile(path: string, stopAt?: string): Promise<boolean> {
  try {
    await rm(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw err;
  }
  if (stopAt !== undefined) await pruneEmptyParents(dirname(path), stopAt);
  return true;
}

async function pruneEmptyParents(dir: string, stopAt: string): Promise<void> {
  for (let d = dir; d.startsWith(stopAt) && d !== stopAt; d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
  }
}
