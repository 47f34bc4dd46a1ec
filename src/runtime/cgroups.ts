/**
 * Containers' cgroups nest under podyard's own (runtime-notes §3.3): the path is podyard's
 * memory cgroup (the one non-root cgroup on these hosts) + `/podyard/<sandbox>/<container>`,
 * and the OCI runtime creates it in every hierarchy. It leaves the intermediate directories
 * behind, so removal walks every hierarchy, deepest first.
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, errorMessage, FailedPreconditionError } from "../errdefs/index.js";

const CGROUP_ROOT = "/sys/fs/cgroup";

/** podyard's own cgroup path: the memory controller's on v1/hybrid hosts, the unified one on v2. */
export async function ownCgroupPath(): Promise<string> {
  const text = await readFile("/proc/self/cgroup", "utf8");
  let unified = "/";
  for (const line of text.split("\n")) {
    const [, controllers, path] = line.split(":");
    if (path === undefined) continue;
    if ((controllers ?? "").split(",").includes("memory")) return path;
    if (controllers === "") unified = path;
  }
  return unified;
}

/** Whether /sys/fs/cgroup is a pure cgroup2 mount (then there is one hierarchy). */
async function isUnified(): Promise<boolean> {
  try {
    await readFile(join(CGROUP_ROOT, "cgroup.controllers"));
    return true;
  } catch {
    return false;
  }
}

/** The cgroup.procs of podyard's own cgroup (ownCgroupPath's), in the hierarchy it is read from. */
export async function ownProcsFile(): Promise<string> {
  return join(CGROUP_ROOT, (await isUnified()) ? "" : "memory", await ownCgroupPath(), "cgroup.procs");
}

/** The directories of every hierarchy a runtime creates cgroups in. */
export async function hierarchies(): Promise<string[]> {
  if (await isUnified()) return [CGROUP_ROOT];
  const names = await readdir(CGROUP_ROOT, { withFileTypes: true });
  // symlinks (cpu -> cpu,cpuacct) would name the same hierarchy twice
  return names.filter((d) => d.isDirectory()).map((d) => join(CGROUP_ROOT, d.name));
}

export function sandboxCgroupPath(own: string, sandboxId: string): string {
  return `${own === "/" ? "" : own}/podyard/${sandboxId}`;
}

export function containerCgroupPath(own: string, sandboxId: string, containerId: string): string {
  return `${sandboxCgroupPath(own, sandboxId)}/${containerId}`;
}

/** Removes `path` (absolute cgroup path) in every hierarchy; an absent or busy directory is left as it is. */
export async function removeCgroup(path: string): Promise<void> {
  for (const h of await hierarchies()) {
    // a cgroup whose last task just died is busy for a moment
    for (let attempt = 0; ; attempt++) {
      try {
        await rmdir(join(h, path));
        break;
      } catch (err) {
        const code = errnoCode(err);
        if (code === "EBUSY" && attempt < 10) {
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        if (code !== "ENOENT" && code !== "EBUSY" && code !== "ENOTEMPTY") throw err;
        break;
      }
    }
  }
}

/** Which cgroup dirs still exist for `path` (for tests and removal checks). */
export async function cgroupDirsLeft(path: string): Promise<string[]> {
  const left: string[] = [];
  for (const h of await hierarchies()) {
    try {
      await readdir(join(h, path));
      left.push(join(h, path));
    } catch {
      // absent
    }
  }
  return left;
}

async function readNumber(file: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(file, "utf8")).trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function readKeyed(file: string, key: string): Promise<number | undefined> {
  try {
    for (const line of (await readFile(file, "utf8")).split("\n")) {
      const [k, v] = line.trim().split(/\s+/);
      if (k === key) return Number(v);
    }
  } catch {
    // absent
  }
  return undefined;
}

/** How often the kernel's OOM killer fired in the cgroup (v1 `memory.oom_control` oom_kill, v2 `memory.events`). */
export async function oomKills(path: string): Promise<number> {
  if (await isUnified()) return (await readKeyed(join(CGROUP_ROOT, path, "memory.events"), "oom_kill")) ?? 0;
  return (await readKeyed(join(CGROUP_ROOT, "memory", path, "memory.oom_control"), "oom_kill")) ?? 0;
}

export interface CgroupUsage {
  cpuNanos?: number;
  memoryUsage?: number;
  workingSet?: number;
}

/** CPU and memory use, as cAdvisor reads them (working set = usage - inactive_file). */
export async function cgroupUsage(path: string): Promise<CgroupUsage> {
  if (await isUnified()) {
    const usec = await readKeyed(join(CGROUP_ROOT, path, "cpu.stat"), "usage_usec");
    const mem = await readNumber(join(CGROUP_ROOT, path, "memory.current"));
    const inactive = (await readKeyed(join(CGROUP_ROOT, path, "memory.stat"), "inactive_file")) ?? 0;
    return { ...(usec !== undefined ? { cpuNanos: usec * 1000 } : {}), ...(mem !== undefined ? { memoryUsage: mem, workingSet: Math.max(0, mem - inactive) } : {}) };
  }
  const cpu = await readNumber(join(CGROUP_ROOT, "cpuacct", path, "cpuacct.usage"));
  const mem = await readNumber(join(CGROUP_ROOT, "memory", path, "memory.usage_in_bytes"));
  const inactive = (await readKeyed(join(CGROUP_ROOT, "memory", path, "memory.stat"), "total_inactive_file")) ?? 0;
  return { ...(cpu !== undefined ? { cpuNanos: cpu } : {}), ...(mem !== undefined ? { memoryUsage: mem, workingSet: Math.max(0, mem - inactive) } : {}) };
}

/** The limits a pod's own cgroup gets (the kubelet's pod-level cgroup: podPidsLimit). */
export interface PodCgroupLimits {
  /** pids.max of the pod's cgroup, shared by all its containers; absent or <= 0: unlimited. */
  pidsLimit?: number;
}

/**
 * Makes the pod's cgroup (`podPath`, below podyard's own cgroup `own`; the runtime later makes
 * each container's under it) in the pids hierarchy and writes its pids.max, so every container of
 * the pod counts against one limit. On cgroup v2 the pids controller is delegated from podyard's
 * own cgroup down to the pod's (never above ours); a host that cannot give it is refused with the
 * reason rather than ignored. `root` is for tests.
 */
export async function applyPodCgroupLimits(own: string, podPath: string, limits: PodCgroupLimits, root = CGROUP_ROOT): Promise<void> {
  const pids = limits.pidsLimit;
  if (pids === undefined || pids <= 0) return;
  const unified = await readFile(join(root, "cgroup.controllers"), "utf8").then(() => true, () => false);
  const hierarchy = unified ? root : join(root, "pids");
  if (unified) await enablePidsBelow(root, own, podPath);
  else {
    if (!(await readdir(hierarchy).then(() => true, () => false))) throw new FailedPreconditionError(`cannot set the pod's pids limit ${pids}: the host has no pids cgroup hierarchy (${hierarchy})`);
    await mkdir(join(hierarchy, podPath), { recursive: true });
  }
  const file = join(hierarchy, podPath, "pids.max");
  try {
    await writeFile(file, String(pids));
  } catch (err) {
    throw new FailedPreconditionError(`cannot set the pod's pids limit ${pids} in ${file}: ${errorMessage(err)}`, { cause: err });
  }
}

/** cgroup v2: from podyard's own cgroup down to the pod's parent, each delegates the pids controller to its child. */
async function enablePidsBelow(root: string, own: string, podPath: string): Promise<void> {
  const base = own === "/" ? "" : own;
  if (!podPath.startsWith(`${base}/`)) throw new FailedPreconditionError(`cgroup ${podPath} is not below podyard's own cgroup ${own}`);
  let dir = join(root, base);
  const available = (await readFile(join(dir, "cgroup.controllers"), "utf8").catch(() => "")).split(/\s+/);
  if (!available.includes("pids")) throw new FailedPreconditionError(`cannot set the pod's pids limit: the pids controller is not available in podyard's cgroup ${dir}`);
  for (const part of podPath.slice(base.length).split("/").filter((p) => p !== "")) {
    const controlled = (await readFile(join(dir, "cgroup.subtree_control"), "utf8").catch(() => "")).split(/\s+/);
    if (!controlled.includes("pids")) {
      await writeFile(join(dir, "cgroup.subtree_control"), "+pids").catch((err: unknown) => {
        throw new FailedPreconditionError(`cannot set the pod's pids limit: enabling the pids controller in ${join(dir, "cgroup.subtree_control")}: ${errorMessage(err)}`, { cause: err });
      });
    }
    dir = join(dir, part);
    await mkdir(dir, { recursive: true });
  }
}
