/** A real small filesystem for full-disk tests: a tmpfs mounted on a temporary directory (root only). */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runOk, runTool } from "./run-tool.js";

/**
 * Mounts a tmpfs of `size` (`4m`) on a new temporary directory, runs `fn` on it, then
 * unmounts it (lazily if it is busy) and removes the directory, even when `fn` throws.
 */
export async function withTmpfs(size: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-tmpfs-"));
  let mounted = false;
  try {
    await runOk("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]);
    mounted = true;
    await fn(dir);
  } finally {
    if (mounted && (await runTool("umount", [dir])).code !== 0) await runTool("umount", ["-l", dir]);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Writes `path` until its filesystem has no byte left. */
export async function fillDisk(path: string): Promise<void> {
  const fh = await open(path, "w");
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) await fh.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    await fh.close();
  }
}
