/**
 * A lock file that lets one process at a time change a state directory. The file
 * holds the owner's PID; a lock whose owner is gone is taken over. Waiting callers
 * poll with the injected clock.
 */
import { open, readFile, rm } from "node:fs/promises";
import type { Clock } from "../clock/index.js";
import { errnoCode } from "../errdefs/index.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === "EPERM";
  }
}

export interface LockOptions {
  clock: Clock;
  /** poll period while another process holds the lock (default 100 ms) */
  pollMs?: number;
  /** told once when the caller has to wait, with the holder's PID */
  onWait?: (pid: number) => void;
}

/** Locks this process holds, with how many holders inside it share each. */
const held = new Map<string, { count: number; taken: Promise<void> }>();

/**
 * Takes the lock at `path` (waiting while another live process holds it) and returns
 * its release. Within one process the lock is shared: it is freed by the last release.
 */
export async function acquireLock(path: string, opts: LockOptions): Promise<() => Promise<void>> {
  let entry = held.get(path);
  if (!entry) {
    entry = { count: 0, taken: takeLock(path, opts) };
    held.set(path, entry);
  }
  entry.count++;
  const mine = entry;
  try {
    await mine.taken;
  } catch (err) {
    if (--mine.count === 0) held.delete(path);
    throw err;
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--mine.count > 0) return;
    held.delete(path);
    const owner = await readFile(path, "utf8").catch(() => "");
    if (owner === String(process.pid)) await rm(path, { force: true });
  };
}

async function takeLock(path: string, opts: LockOptions): Promise<void> {
  let told = false;
  for (;;) {
    try {
      const fh = await open(path, "wx", 0o644);
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (err) {
      if (errnoCode(err) !== "EEXIST") throw err;
    }
    const pid = Number(await readFile(path, "utf8").catch(() => ""));
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
      // the holder died without releasing: take the lock over (a lost race just loops)
      await rm(path, { force: true });
      continue;
    }
    if (!told) {
      opts.onWait?.(pid);
      told = true;
    }
    await opts.clock.sleep(opts.pollMs ?? 100);
  }
}
