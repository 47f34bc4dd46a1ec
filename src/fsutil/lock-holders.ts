/**
 * Who holds POSIX (fcntl) locks on a file, as the kernel tells in /proc/locks: one line
 * per lock, `N: POSIX  ADVISORY  WRITE <pid> <major>:<minor>:<inode> <start> <end>`, the
 * device numbers in hex. The PIDs are the kernel's, so they are never stale.
 */
import { readFileSync, statSync } from "node:fs";

/** The major and minor numbers of a Linux `st_dev` (glibc's encoding). */
function deviceNumbers(dev: bigint): [bigint, bigint] {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return [major, minor];
}

/**
 * The PIDs (other than this process) that hold a POSIX lock on `path`, in the kernel's
 * order; empty when there are none or the kernel does not say (no /proc, or holders in
 * another PID namespace, shown as 0).
 */
export function lockHolders(path: string, locksText?: string): number[] {
  let text = locksText;
  let dev: bigint;
  let ino: bigint;
  try {
    text ??= readFileSync("/proc/locks", "utf8");
    ({ dev, ino } = statSync(path, { bigint: true }));
  } catch {
    return [];
  }
  const [major, minor] = deviceNumbers(dev);
  const pids: number[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/).filter((w) => w !== "->");
    // f: "N:", kind, mode, access, pid, "maj:min:ino", start, end
    if (f[1] !== "POSIX" && f[1] !== "OFDLCK") continue;
    const pid = Number(f[4]);
    const [maj, min, inode] = (f[5] ?? "").split(":");
    if (!/^[0-9a-f]+$/i.test(maj ?? "") || !/^[0-9a-f]+$/i.test(min ?? "") || !/^\d+$/.test(inode ?? "")) continue;
    if (BigInt(`0x${maj ?? ""}`) !== major || BigInt(`0x${min ?? ""}`) !== minor || BigInt(inode ?? "") !== ino) continue;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pids.includes(pid)) pids.push(pid);
  }
  return pids;
}
