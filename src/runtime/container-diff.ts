/**
 * `docker diff` of a container: what its writable layer added (A), changed (C) and deleted (D)
 * against the image's layers. Read from the overlay's upper directory: a 0/0 character device
 * is a whiteout (D); a path that exists in a lower is changed, else added; a lower entry that
 * the merged view no longer shows (an opaque directory hides them) is deleted.
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

async function lstatOrUndefined(p: string): Promise<import("node:fs").Stats | undefined> {
  try {
    return await lstat(p);
  } catch {
    return undefined;
  }
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function inLowers(lowers: readonly string[], rel: string): Promise<import("node:fs").Stats | undefined> {
  for (const l of lowers) {
    const st = await lstatOrUndefined(join(l, rel));
    if (st) return st;
  }
  return undefined;
}

/**
 * Leaves out the mount points the runtime made for its own mounts (`/etc/hostname`, a volume's
 * directory…), and directories changed only by holding them, as docker's init layer hides them.
 */
export function withoutMountPoints(changes: readonly Change[], mountPoints: readonly string[]): Change[] {
  const points = new Set(mountPoints);
  const kept = changes.filter((c) => !points.has(c.path));
  const under = (list: readonly Change[], dir: string): boolean => list.some((c) => c.path.startsWith(`${dir}/`));
  return kept.filter((c) => !(c.kind === "C" && under(changes, c.path) && !under(kept, c.path)));
}

/** The changes of overlay `upper` over `lowers` (topmost first); `merged` is the mounted view, when there is one. */
export async function overlayChanges(upper: string, lowers: readonly string[], merged?: string): Promise<Change[]> {
  const changes: Change[] = [];
  const walk = async (rel: string, parentInLower: boolean): Promise<void> => {
    const entries = await names(join(upper, rel));
    for (const name of entries) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const path = `/${r}`;
      const st = await lstatOrUndefined(join(upper, r));
      if (!st) continue;
      if (st.isCharacterDevice() && st.rdev === 0) {
        changes.push({ kind: "D", path });
        continue;
      }
      const lower = parentInLower ? await inLowers(lowers, r) : undefined;
      changes.push({ kind: lower ? "C" : "A", path });
      if (st.isDirectory()) {
        await walk(r, lower?.isDirectory() === true);
        if (lower?.isDirectory() && merged !== undefined) {
          // entries of the lowers hidden by an opaque directory are deleted ones
          const seen = new Set(await names(join(merged, r)));
          const upperNames = new Set(await names(join(upper, r)));
          const lowerNames = new Set<string>();
          for (const l of lowers) for (const n of await names(join(l, r))) lowerNames.add(n);
          for (const n of lowerNames) if (!seen.has(n) && !upperNames.has(n)) changes.push({ kind: "D", path: `${path}/${n}` });
        }
      }
    }
  };
  await walk("", true);
  return changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
