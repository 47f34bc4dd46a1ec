/** What a directory tree takes on disk (containerd's `fs.DiskUsage`), for `Snapshotter.usage`. */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { SnapshotUsage } from "./snapshotter.js";

/** Allocated bytes and distinct inodes under `dir` (itself included); hard links count once. */
export async function treeUsage(dir: string): Promise<SnapshotUsage> {
  const seen = new Set<string>();
  let size = 0;
  const visit = async (path: string): Promise<void> => {
    const st = await lstat(path, { bigint: true });
    const id = `${st.dev}:${st.ino}`;
    if (!seen.has(id)) {
      seen.add(id);
      size += Number(st.blocks) * 512;
    }
    if (st.isDirectory()) for (const name of await readdir(path)) await visit(join(path, name));
  };
  await visit(dir);
  return { size, inodes: seen.size };
}
