/**
 * How much disk a directory tree takes, as the kubelet's du-based volume metrics count it
 * (pkg/volume/util/fs DiskUsage): the allocated blocks (st_blocks x 512) of every entry,
 * each inode once however many hard links it has, never crossing into another filesystem.
 */
import type { BigIntStats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../../errdefs/index.js";

const BLOCK = 512;
const BATCH = 64;

/** Bytes used below `dir` (the directory itself included); an absent directory uses 0. */
export async function diskUsage(dir: string): Promise<number> {
  let root;
  try {
    root = await lstat(dir, { bigint: true });
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return 0;
    throw err;
  }
  const seen = new Set<bigint>();
  let total = 0n;
  const walk = async (path: string, st: BigIntStats): Promise<void> => {
    if (st.dev !== root.dev) return;
    if (st.nlink > 1n) {
      if (seen.has(st.ino)) return;
      seen.add(st.ino);
    }
    total += st.blocks * BigInt(BLOCK);
    if (!st.isDirectory()) return;
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      // a file the container removed while we walked
      if (errnoCode(err) === "ENOENT") return;
      throw err;
    }
    // the stats of a directory's entries are asked for a batch at a time (the thread pool does them at once)
    for (let i = 0; i < names.length; i += BATCH) {
      const batch = names.slice(i, i + BATCH).map((name) => join(path, name));
      const stats = await Promise.all(batch.map((p) => lstat(p, { bigint: true }).catch((err: unknown) => {
        if (errnoCode(err) === "ENOENT") return undefined;
        throw err;
      })));
      for (let j = 0; j < batch.length; j++) {
        const child = stats[j];
        if (child) await walk(batch[j] ?? "", child);
      }
    }
  };
  await walk(dir, root);
  return Number(total);
}
