/**
 * The pod sandbox's namespaces as nsfs bind mounts (runtime-notes §5.2): network, IPC and
 * UTS namespaces pinned by files under `sandboxes/<id>/ns/`, so no holder process is needed and
 * they outlive a restart of podyard. Loopback up, the pod's IP on `lo` inside the netns only,
 * the hostname set. Nothing on the host's network changes. Beside them the pod's /dev/shm: one
 * 64 MiB tmpfs per sandbox that every container binds (as containerd does), so the containers of a
 * pod share POSIX shared memory as they share the IPC namespace.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode } from "../errdefs/index.js";
import { runTool } from "./run-tool.js";

export interface SandboxNamespaces {
  net: string;
  ipc: string;
  uts: string;
}

export function namespaceFiles(sandboxDir: string): SandboxNamespaces {
  const ns = join(sandboxDir, "ns");
  return { net: join(ns, "net"), ipc: join(ns, "ipc"), uts: join(ns, "uts") };
}

/** The sandbox's /dev/shm on the host (a tmpfs mount point). */
export function sandboxShm(sandboxDir: string): string {
  return join(sandboxDir, "shm");
}

/** containerd's sandbox shm: mode 1777, 64 MiB, no exec, suid or devices. */
export const SHM_OPTIONS = "nosuid,nodev,noexec,mode=1777,size=65536k";

export async function createNamespaces(sandboxDir: string, hostname: string, ip: string): Promise<SandboxNamespaces> {
  const files = namespaceFiles(sandboxDir);
  await Promise.all([mkdir(join(sandboxDir, "ns"), { recursive: true }), mkdir(sandboxShm(sandboxDir), { recursive: true })]);
  await Promise.all(Object.values(files).map((f) => writeFile(f, "")));
  // one spawn: unshare pins the new namespaces on the files and runs the set-up inside them; the
  // mount namespace is not unshared, so the shm tmpfs is mounted on the host's side. Two more
  // processes only, side by side: the hostname is written to the new UTS namespace's /proc file by
  // the shell itself, `mount` runs in the background while one `ip -batch` does link and address.
  await runTool("unshare", [
    `--net=${files.net}`, `--ipc=${files.ipc}`, `--uts=${files.uts}`,
    "sh", "-c", SETUP_SCRIPT, "sandbox-setup", ip, hostname, sandboxShm(sandboxDir), SHM_OPTIONS,
  ]);
  return files;
}

/**
 * The set-up run inside the new namespaces ($1 ip, $2 hostname, $3 shm mount point, $4 its
 * options); it fails when any step fails, after the background mount has ended.
 */
const SETUP_SCRIPT = [
  'printf "%s" "$2" > /proc/sys/kernel/hostname || exit 1',
  'mount -t tmpfs -o "$4" shm "$3" & m=$!',
  'printf "link set lo up\naddr add %s/32 dev lo\n" "$1" | ip -batch -; r=$?',
  'wait $m || exit 1',
  "exit $r",
].join("; ");

/** The mount points under `dir` in this mount namespace, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const text = await readFile("/proc/self/mountinfo", "utf8");
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  const points = text.split("\n").map((l) => l.split(" ")[4] ?? "").map(unescapeMountPath).filter((p) => p === dir || p.startsWith(prefix));
  return points.sort((a, b) => b.length - a.length);
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Unmounts `target` (lazily when busy); an unmounted target is no error. */
export async function unmount(target: string): Promise<void> {
  for (const p of await mountsUnder(target)) {
    if (p !== target && !p.startsWith(`${target}/`)) continue;
    try {
      await runTool("umount", [p]);
    } catch {
      await runTool("umount", ["-l", p]).catch(() => undefined);
    }
  }
}

/** Unmounts the namespace files (freeing the namespaces once no process uses them) and the shm, in one spawn. */
export async function destroyNamespaces(sandboxDir: string): Promise<void> {
  const mounted = [...(await mountsUnder(join(sandboxDir, "ns"))), ...(await mountsUnder(sandboxShm(sandboxDir)))];
  if (mounted.length === 0) return;
  try {
    await runTool("umount", mounted);
  } catch {
    for (const f of [...Object.values(namespaceFiles(sandboxDir)), sandboxShm(sandboxDir)]) await unmount(f);
  }
}

export async function removeDir(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (err) {
    if (errnoCode(err) !== "ENOENT") throw err;
  }
}
