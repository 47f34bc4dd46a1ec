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
import { findExecutable } from "./oci-runtime.js";
import { runTool } from "./run-tool.js";
import { SYSCALLS, type SyscallNumbers } from "./syscalls.js";

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
  const script = await perlSetup();
  if (script !== undefined) {
    await runTool("perl", ["-e", script, files.net, files.ipc, files.uts, hostname, ip, sandboxShm(sandboxDir), SHM_DATA], {
      name: `the sandbox set-up in ${sandboxDir} (perl)`,
    });
    return files;
  }
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

/** SHM_OPTIONS' data part; its flags are MS_NOSUID|MS_NODEV|MS_NOEXEC. */
const SHM_DATA = "mode=1777,size=65536k";

let perlScript: Promise<string | undefined> | undefined;

/** The set-up below for this architecture, when perl is there (it is Essential on Debian). */
function perlSetup(): Promise<string | undefined> {
  perlScript ??= (async () => {
    const n = SYSCALLS[process.arch];
    if (n === undefined) return undefined;
    const perl = await findExecutable("perl").then(() => true, () => false);
    return perl ? perlSetupScript(n) : undefined;
  })();
  return perlScript;
}

/**
 * The whole set-up in one process, ~4 programs fewer than unshare + sh + mount + ip (each costs
 * 1.5–3 ms here): unshare(2) the network, IPC and UTS namespaces, bind their /proc/self/ns files
 * onto the sandbox's (as unshare --net=FILE does), write the hostname, mount the shm tmpfs (the
 * mount namespace is the host's), bring lo up (SIOCSIFFLAGS) and add the pod's IP to it with the
 * netlink message `ip addr add IP/32 dev lo` sends (lo is interface 1 in every new netns).
 * Arguments: net ipc uts hostname ip shm shm-data.
 */
function perlSetupScript(n: SyscallNumbers): string {
  // numbers instead of \`use Socket\`, which alone costs ~5 ms to load here: AF_INET 2, SOCK_DGRAM 2,
  // AF_NETLINK 16, SOCK_RAW 3, NETLINK_ROUTE 0
  return `use strict;
my ($net, $ipc, $uts, $hostname, $ip, $shm, $shmdata) = @ARGV;
syscall(${n.unshare}, 0x40000000 | 0x08000000 | 0x04000000) == 0 or die "unshare(net, ipc, uts): $!\n";
for (["net", $net], ["ipc", $ipc], ["uts", $uts]) {
  my ($type, $file) = @$_;
  syscall(${n.mount}, "/proc/self/ns/$type", $file, 0, 0x1000, 0) == 0 or die "pinning the $type namespace on $file: $!\n";
}
open(my $h, ">", "/proc/sys/kernel/hostname") or die "setting the hostname: $!\n";
print $h $hostname; close($h) or die "setting the hostname $hostname: $!\n";
my ($source, $fstype) = ("shm", "tmpfs"); # syscall's string arguments must be writable
syscall(${n.mount}, $source, $shm, $fstype, 2 | 4 | 8, $shmdata) == 0 or die "mounting the shm tmpfs on $shm: $!\n";
socket(my $s, 2, 2, 0) or die "socket: $!\n";
my $ifr = pack("a16 x24", "lo");
ioctl($s, 0x8913, $ifr) or die "reading lo's flags: $!\n";
my $flags = unpack("x16 s", $ifr);
ioctl($s, 0x8914, pack("a16 s x22", "lo", $flags | 0x1 | 0x40)) or die "bringing lo up: $!\n";
$ip =~ /^(\\d+)\\.(\\d+)\\.(\\d+)\\.(\\d+)$/ or die "pod IP $ip is no IPv4 address\n";
my $addr = pack("C4", $1, $2, $3, $4);
my $attr = sub { pack("S S a4", 8, $_[0], $addr) };
my $body = pack("C C C C L", 2, 32, 0, 0, 1) . $attr->(2) . $attr->(1);
socket(my $nl, 16, 3, 0) or die "netlink socket: $!\n";
send($nl, pack("L S S L L", 16 + length($body), 20, 0x1 | 0x4 | 0x200 | 0x400, 1, 0) . $body, 0) or die "netlink send: $!\n";
defined(recv($nl, my $ans, 4096, 0)) or die "netlink recv: $!\n";
my ($type, $err) = unpack("x4 S x10 l", $ans);
if ($type == 2 && $err != 0) { $! = -$err; die "adding $ip/32 to lo: $!\n"; }
`;
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
