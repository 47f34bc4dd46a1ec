/**
 * Setting up and tearing down a pod's volumes on the host (the kubelet's volume manager, done
 * in one pass per sync): emptyDir, hostPath, configMap, secret, downwardAPI and projected.
 */
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Pod, Volume } from "../../api/index.js";
import { parseQuantity } from "../../api/index.js";
import type { Clock } from "../../clock/index.js";
import { realClock } from "../../clock/index.js";
import { errnoCode, FailedPreconditionError } from "../../errdefs/index.js";
import { writeAtomic } from "./atomic-writer.js";
import { checkHostPath } from "./host-path.js";
import { mountPoints, mountTmpfs, unmount } from "./mounts.js";
import { podVolumesDir, volumeDir, volumePluginName } from "./paths.js";
import { volumePayload } from "./projection.js";
import type { MountedVolume, VolumeSources } from "./types.js";
import { VolumeSetUpError } from "./types.js";

export interface SetUpPodVolumesOptions {
  pod: Pod;
  /** `<home>/kubelet/pods/<uid>` */
  podDir: string;
  sources: VolumeSources;
  nodeName: string;
  nodeIP?: string;
  podIP?: string;
  /** Names the AtomicWriter's timestamped directories. */
  clock?: Clock;
}

async function setUpOne(opts: SetUpPodVolumesOptions, volume: Volume): Promise<MountedVolume> {
  const name = volume.name;
  if (volume.hostPath) {
    await checkHostPath(volume.hostPath.path, volume.hostPath.type);
    return { name, hostPath: volume.hostPath.path, readOnly: false };
  }
  const plugin = volumePluginName(volume);
  if (!plugin) throw new Error(`volume ${JSON.stringify(name)} has no source podyard supports`);
  const dir = volumeDir(opts.podDir, plugin, name);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  if (volume.emptyDir) {
    const memory = volume.emptyDir.medium === "Memory";
    if (memory) {
      const limit = volume.emptyDir.sizeLimit;
      await mountTmpfs(dir, limit === undefined ? undefined : Math.ceil(parseQuantity(limit)));
    }
    await chmod(dir, 0o777);
    return memory ? { name, hostPath: dir, readOnly: false, tmpfs: true } : { name, hostPath: dir, readOnly: false };
  }
  // Secrets never touch the disk: their volume is a tmpfs, as the kubelet's wrapped memory emptyDir.
  const tmpfs = Boolean(volume.secret);
  if (tmpfs) await mountTmpfs(dir);
  await chmod(dir, 0o777);
  const payload = await volumePayload(opts, volume);
  await writeAtomic(dir, payload, opts.clock ?? realClock);
  return tmpfs ? { name, hostPath: dir, readOnly: true, tmpfs: true } : { name, hostPath: dir, readOnly: true };
}

/**
 * Sets up every volume of the pod (again on each sync: configMap, secret and downwardAPI
 * contents are re-projected) and returns them by name. Every volume is tried; when some fail,
 * the first failure is thrown with all of them in `failures`.
 */
export async function setUpPodVolumes(opts: SetUpPodVolumesOptions): Promise<Map<string, MountedVolume>> {
  const out = new Map<string, MountedVolume>();
  const failures: VolumeSetUpError[] = [];
  for (const volume of opts.pod.spec.volumes ?? []) {
    try {
      out.set(volume.name, await setUpOne(opts, volume));
    } catch (err) {
      failures.push(new VolumeSetUpError(volume.name, (err as Error).message, { cause: err }));
    }
  }
  const first = failures[0];
  if (first) {
    first.failures = failures;
    throw first;
  }
  return out;
}

/** Unmounts the pod's tmpfs volumes and removes `<podDir>/volumes`; safe to call again. */
export async function tearDownPodVolumes(podDir: string): Promise<void> {
  const root = podVolumesDir(podDir);
  let plugins: string[];
  try {
    plugins = await readdir(root);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  for (const p of plugins) {
    let names: string[] = [];
    try {
      names = await readdir(join(root, p));
    } catch (err) {
      if (errnoCode(err) !== "ENOTDIR") throw err;
    }
    for (const n of names) await unmount(join(root, p, n));
  }
  // Never remove through something still mounted (it would empty what lies beneath).
  const left = (await mountPoints()).filter((m) => m === root || m.startsWith(root + "/"));
  if (left.length > 0) throw new FailedPreconditionError(`cannot remove the volumes of ${podDir}: still mounted: ${left.join(", ")}`);
  await rm(root, { recursive: true, force: true });
}
