/** Small filesystem helpers: atomic writes, tolerant reads and directory listings. */
import { readdir, readFile, rm, rmdir } from "node:fs/promises";
import { dirname } from "node:path";
import { errnoCode } from "../../../errdefs/index.js";
import { isTempName, syncDir, writeFileAtomic, type WriteFileAtomicOptions } from "../../../fsutil/index.js";

/** How the registry's storage writes its small files: parents created, the rename made durable. */
export const DURABLE: WriteFileAtomicOptions = { mkdirMode: 0o755, syncDir: true };

export { isTempName, syncDir as fsyncDir, writeFileAtomic };

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
