/**
 * The CRI mounts of a container (`makeMounts`): its volumeMounts with subPath/subPathExpr,
 * read-only and propagation, in spec order. /etc/hosts and the termination-message file are added
 * by generateContainerConfig after these.
 */
import { chmod, mkdir, realpath, stat } from "node:fs/promises";
import { isAbsolute, join, sep } from "node:path";
import type { Container, VolumeMount } from "../../api/index.js";
import type { Mount, MountPropagation, MountedVolume } from "../../runtime/index.js";
import { backstepsError } from "../../runtime/index.js";
import { errnoCode } from "../../errdefs/index.js";
import { CreateContainerConfigError } from "./errors.js";
import { expand } from "./expand.js";
import { goQuote as q } from "../../gofmt/index.js";

/** `translateMountPropagation`. */
export function mountPropagation(mode: string | undefined): MountPropagation {
  switch (mode ?? "None") {
    case "None": return "PROPAGATION_PRIVATE";
    case "HostToContainer": return "PROPAGATION_HOST_TO_CONTAINER";
    case "Bidirectional": return "PROPAGATION_BIDIRECTIONAL";
  }
  throw new CreateContainerConfigError(`invalid MountPropagation mode: ${q(mode ?? "")}`);
}

/** `ExpandContainerVolumeMounts`: a missing or empty variable is an error naming all of them, sorted. */
export function expandSubPathExpr(expr: string, env: Map<string, string>): string {
  const missing = new Set<string>();
  const out = expand(expr, (name) => {
    const v = env.get(name);
    if (v === undefined || v === "") missing.add(name);
    return v ?? "";
  });
  if (missing.size > 0) throw new CreateContainerConfigError(`missing value for ${[...missing].sort().join(", ")}`);
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return false;
    throw new CreateContainerConfigError("could not determine if subPath exists; will not attempt to change its permissions", { cause: err });
  }
}

function within(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

async function subPathHostPath(volumePath: string, subPath: string, mount: VolumeMount, container: Container): Promise<string> {
  if (isAbsolute(subPath)) throw new CreateContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
  const back = backstepsError(subPath);
  if (back) throw new CreateContainerConfigError(`unable to provision SubPath \`${subPath}\`: ${back}`);
  const hostPath = join(volumePath, subPath);
  if (!(await exists(hostPath))) {
    try {
      const mode = (await stat(volumePath)).mode & 0o7777;
      const root = await realpath(volumePath);
      let dir = root;
      for (const part of subPath.split("/").filter(Boolean)) {
        dir = join(dir, part);
        if (!(await exists(dir))) {
          await mkdir(dir, { mode });
          await chmod(dir, mode);
        }
        // A symlink along the way must not lead out of the volume.
        if (!within(await realpath(dir), root)) throw new Error(`${dir} is outside ${root}`);
      }
    } catch (err) {
      throw new CreateContainerConfigError(`failed to create subPath directory for volumeMount ${q(mount.name)} of container ${q(container.name)}`, { cause: err });
    }
  }
  // What the runtime binds must stay inside the volume, whatever symlinks the subPath crosses.
  try {
    const real = await realpath(hostPath);
    if (!within(real, await realpath(volumePath))) throw new Error(`${real} is outside the volume`);
  } catch (err) {
    throw new CreateContainerConfigError(`failed to prepare subPath for volumeMount ${q(mount.name)} of container ${q(container.name)}`, { cause: err });
  }
  return hostPath;
}

/** `resolveRecursiveReadOnly`'s checks (CRI's mount has no field for it: the bind is made read-only as a whole). */
function checkRecursiveReadOnly(mount: VolumeMount): void {
  const rro = mount.recursiveReadOnly;
  if (rro === undefined || rro === "Disabled") return;
  if (rro !== "Enabled" && rro !== "IfPossible") throw new CreateContainerConfigError(`unknown recursive read-only mode ${q(rro)}`);
  if (!mount.readOnly) throw new CreateContainerConfigError(`volume ${q(mount.name)} requested recursive read-only mode, but it is not read-only`);
  if (mount.mountPropagation !== undefined && mount.mountPropagation !== "None") {
    throw new CreateContainerConfigError(`volume ${q(mount.name)} requested recursive read-only mode, but it is not compatible with propagation ${q(mount.mountPropagation)}`);
  }
}

export async function makeVolumeMounts(container: Container, volumes: Map<string, MountedVolume>, env: Map<string, string>): Promise<Mount[]> {
  const mounts: Mount[] = [];
  for (const mount of container.volumeMounts ?? []) {
    const vol = volumes.get(mount.name);
    if (!vol) throw new CreateContainerConfigError(`cannot find volume ${q(mount.name)} to mount into container ${q(container.name)}`);
    let hostPath = vol.hostPath;
    let subPath = mount.subPath ?? "";
    if (mount.subPathExpr) subPath = expandSubPathExpr(mount.subPathExpr, env);
    if (subPath !== "") hostPath = await subPathHostPath(vol.hostPath, subPath, mount, container);
    const propagation = mountPropagation(mount.mountPropagation);
    checkRecursiveReadOnly(mount);
    mounts.push({ containerPath: mount.mountPath, hostPath, readonly: Boolean(mount.readOnly) || vol.readOnly, propagation });
  }
  return mounts;
}
