/**
 * A lock file that lets one process at a time change a state directory. The file
 * holds the owner's PID; a lock whose owner is gone is taken over. Waiting callers
 * poll with the injected clock.
 */
import { randomBytes } from "node:crypto";
import { link, readFile, rm, stat, writeFile } from "node:fs/promises";
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

/** A lock file with no readable PID this old is a crash leftover, not one being written. */
const UNREADABLE_STALE_MS = 10_000;

async function takeLock(path: string, opts: LockOptions): Promise<void> {
  let told = false;
  for (;;) {
    // Write our PID to a private file, then link it into place: link(2) is atomic and fails
    // when the lock exists, so nobody ever sees a lock file without its owner's PID.
    const mine = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
    await writeFile(mine, String(process.pid), { mode: 0o644 });
    try {
      await link(mine, path);
      return;
    } catch (err) {
      if (errnoCode(err) !== "EEXIST") throw err;
    } finally {
      await rm(mine, { force: true });
    }
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) continue; // released meanwhile
    const pid = Number(text);
    const unreadable = !Number.isInteger(pid) || pid <= 0;
    const age = await stat(path).then((st) => opts.clock.now() - st.mtimeMs, () => 0);
    if ((unreadable && age > UNREADABLE_STALE_MS) || (!unreadable && !alive(pid))) {
      // the holder died without releasing: take the lock over (a lost race just loops)
      await rm(path, { force: true });
      continue;
    }
    if (!told && !unreadable) {
      opts.onWait?.(pid);
      told = true;
    }
    await opts.clock.sleep(opts.pollMs ?? 100);
  }
}
