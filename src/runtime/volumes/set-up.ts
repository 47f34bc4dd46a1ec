/**
 * Setting up and tearing down a pod's volumes on the host (the kubelet's volume manager, done
 * in one pass per sync): emptyDir, hostPath, configMap, secret, downwardAPI and projected.
 */
import { chmod, lchown, mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { totalmem } from "node:os";
import type { Pod, Quantity, Volume } from "../../api/index.js";
import { parseQuantity } from "../../api/index.js";
import type { Clock } from "../../clock/index.js";
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

/** The pod's memory limit as its cgroup gets it: the sum of its containers' limits (or the largest init one), when all have one. */
function podMemoryLimit(pod: Pod): number | undefined {
  let sum = 0;
  for (const c of pod.spec.containers) {
    const l = c.resources?.limits?.memory;
    if (l === undefined) return undefined;
    sum += parseQuantity(l);
  }
  let init = 0;
  for (const c of pod.spec.initContainers ?? []) {
    const l = c.resources?.limits?.memory;
    if (l === undefined) return undefined;
    init = Math.max(init, parseQuantity(l));
  }
  return Math.max(sum, init);
}

/**
 * The size of a memory-backed volume (`calculateEmptyDirMemorySize`): the node's memory, lowered
 * to the pod's memory limit, lowered to the volume's sizeLimit; each only when smaller and above 0.
 */
export function memoryVolumeSize(pod: Pod, sizeLimit: Quantity | undefined, nodeMemory = totalmem()): number {
  let size = nodeMemory;
  const podLimit = podMemoryLimit(pod);
  if (podLimit !== undefined && podLimit > 0 && podLimit <= size) size = podLimit;
  const vol = sizeLimit === undefined ? undefined : parseQuantity(sizeLimit);
  if (vol !== undefined && vol > 0 && vol <= size) size = vol;
  return Math.ceil(size);
}

async function setUpOne(opts: SetUpPodVolumesOptions, volume: Volume): Promise<MountedVolume> {
  const name = volume.name;
  const fsGroup = opts.pod.spec.securityContext?.fsGroup;
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
    if (memory) await mountTmpfs(dir, memoryVolumeSize(opts.pod, volume.emptyDir.sizeLimit));
    await chmod(dir, 0o777);
    // Only the directory: what containers later write in it is theirs (setgid passes the group on).
    if (fsGroup !== undefined) {
      await lchown(dir, -1, fsGroup);
      await chmod(dir, 0o2777);
    }
    return memory ? { name, hostPath: dir, readOnly: false, tmpfs: true } : { name, hostPath: dir, readOnly: false };
  }
  // Secrets never touch the disk: their volume is a tmpfs, as the kubelet's wrapped memory emptyDir.
  const tmpfs = Boolean(volume.secret);
  if (tmpfs) await mountTmpfs(dir, memoryVolumeSize(opts.pod, undefined));
  await chmod(dir, 0o777);
  const payload = await volumePayload(opts, volume);
  await writeAtomic(dir, payload, { clock: opts.clock, fsGroup });
  if (fsGroup !== undefined) {
    await lchown(dir, -1, fsGroup);
    await chmod(dir, 0o2777);
  }
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
