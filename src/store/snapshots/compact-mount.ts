/**
 * Overlay options that fit mount(2). The kernel copies at most one page of mount options
 * (4096 bytes on most machines), so an overlay stacking ~100 snapshots by absolute path
 * cannot be mounted as `Snapshotter.mounts` returns it. As containerd's mount package does
 * (`compactLowerdirOption`), whoever performs the mount makes the lower directories relative
 * to their common parent and mounts from there (overlayfs resolves them against the
 * mounting process's working directory).
 */
import { dirname, relative, sep } from "node:path";
import type { Mount } from "./snapshotter.js";

/** The option bytes mount(2) takes: one page (the smallest page size Linux runs with). */
export const MOUNT_OPTIONS_MAX = 4096;

/** How to perform a mount: its options, and the directory to run mount(2) in, if they are relative. */
export interface CompactMount {
  options: string[];
  /** The working directory the options' relative lowerdirs are relative to; absent when nothing was compacted. */
  cwd?: string;
}

/** The longest directory that holds every path in `paths` (absolute paths). */
function commonDir(paths: readonly string[]): string {
  let common = dirname(paths[0] ?? "/");
  for (const p of paths) while (common !== "/" && !p.startsWith(`${common}${sep}`)) common = dirname(common);
  return common;
}

/**
 * `m`'s options as given when they fit in `MOUNT_OPTIONS_MAX` bytes or `m` is not an overlay;
 * else with the lowerdirs relative to their common parent, which becomes `cwd`.
 */
export function compactMount(m: Mount): CompactMount {
  const lower = m.options.findIndex((o) => o.startsWith("lowerdir="));
  if (m.type !== "overlay" || lower < 0 || Buffer.byteLength(m.options.join(",")) < MOUNT_OPTIONS_MAX) return { options: m.options };
  const dirs = (m.options[lower] ?? "").slice("lowerdir=".length).split(":");
  const cwd = commonDir(dirs);
  if (cwd === "/") return { options: m.options };
  const options = [...m.options];
  options[lower] = `lowerdir=${dirs.map((d) => relative(cwd, d)).join(":")}`;
  return { options, cwd };
}
