/**
 * The few mounts the kubelet makes itself (tmpfs for memory-backed volumes), done with
 * mount(8)/umount(8), and a reader of /proc/self/mountinfo to know what is mounted.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** The mount points of this process's mount namespace, in mount order. */
export async function mountPoints(): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  return text.split("\n").filter(Boolean).map((line) => unescapeMountPath(line.split(" ")[4] ?? ""));
}

export async function isMountPoint(path: string): Promise<boolean> {
  return (await mountPoints()).includes(path);
}

/** Mounts a tmpfs at `dir` (size in bytes when given) unless one is already mounted there. */
export async function mountTmpfs(dir: string, sizeBytes?: number): Promise<void> {
  if (await isMountPoint(dir)) return;
  // As the kubelet: no extra flags, only the size (a tmpfs with none gets half the RAM).
  const opts = sizeBytes !== undefined ? [`size=${sizeBytes}`] : ["defaults"];
  try {
    await run("mount", ["-t", "tmpfs", "-o", opts.join(","), "tmpfs", dir]);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`mount failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** Unmounts `dir` (every mount stacked on it); a path that is not a mount point is left alone. */
export async function unmount(dir: string): Promise<void> {
  while (await isMountPoint(dir)) {
    try {
      await run("umount", [dir]);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new Error(`unmount of ${dir} failed: ${stderr || (err as Error).message}`, { cause: err });
    }
  }
}
