/**
 * A container's rootfs: the snapshotter's mount (an overlay of the image's layers under a fresh
 * upper directory) performed at the bundle's `rootfs`, compacted when the lowerdirs would not fit
 * in mount(2)'s one page of options (runtime-notes §6; store/snapshots compactMount).
 */
import { FailedPreconditionError } from "../errdefs/index.js";
import { compactMount, type Mount } from "../store/index.js";
import { runTool } from "./run-tool.js";

export interface MountedRootfs {
  /** The writable layer (what `containerDiff` reads). */
  upper?: string;
  /** The image's layers, topmost first. */
  lowers: string[];
}

export async function mountRootfs(mounts: readonly Mount[], target: string): Promise<MountedRootfs> {
  const m = mounts[0];
  if (!m) throw new FailedPreconditionError(`no mount for the rootfs at ${target}`);
  const compact = compactMount(m);
  await runTool("mount", ["-t", m.type, "-o", compact.options.join(","), m.source, target], compact.cwd !== undefined ? { cwd: compact.cwd } : {});
  const opt = (k: string): string | undefined => m.options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const upper = opt("upperdir") ?? (m.type === "bind" ? m.source : undefined);
  return { ...(upper !== undefined ? { upper } : {}), lowers: (opt("lowerdir") ?? "").split(":").filter((l) => l !== "") };
}
