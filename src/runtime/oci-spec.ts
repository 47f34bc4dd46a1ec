/**
 * The OCI runtime spec (config.json) of one container, generated in process (runtime-notes §4):
 * argv from command/args against the image's ENTRYPOINT/CMD (kubelet-pods §5.2), env, user,
 * Docker's default capabilities, containerd's masked/read-only paths and device rules, cgroup
 * limits, and the sandbox's network, IPC and UTS namespaces.
 */
import { InvalidArgumentError } from "../errdefs/index.js";
import type { ImageConfig } from "../oci/index.js";
import type { ContainerConfig, LinuxContainerResources, Mount } from "./cri.js";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Docker's (and containerd's) default capability set. */
export const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

/** Every capability Linux 6.x knows (`privileged` and `add: [ALL]`). */
export const ALL_CAPABILITIES = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
  "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
  "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
  "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
];

/** containerd's defaults (`pkg/oci/spec.go`). */
export const DEFAULT_MASKED_PATHS = [
  "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi",
];
export const DEFAULT_READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** The smallest memory limit runc and crun take (Docker refuses less too). */
export const MIN_MEMORY_LIMIT = 6 * 1024 * 1024;

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface OciSpec {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number; additionalGids?: number[] };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    noNewPrivileges: boolean;
    oomScoreAdj?: number;
  };
  root: { path: string; readonly: boolean };
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: { type: string; path?: string }[];
    cgroupsPath: string;
    resources: {
      devices: { allow: boolean; type?: string; major?: number; minor?: number; access: string }[];
      memory?: { limit: number; swap?: number };
      cpu?: { shares?: number; quota?: number; period?: number };
      pids?: { limit: number };
    };
    maskedPaths?: string[];
    readonlyPaths?: string[];
  };
}

/** kubelet-pods §5.2: command replaces ENTRYPOINT, args replace CMD; `[""]` counts as no ENTRYPOINT. */
export function processArgs(config: Pick<ContainerConfig, "command" | "args">, image: ImageConfig["config"]): string[] {
  const entrypoint = image?.Entrypoint?.length === 1 && image.Entrypoint[0] === "" ? [] : (image?.Entrypoint ?? []);
  const command = config.command ?? [];
  const args = config.args ?? [];
  let argv: string[];
  if (command.length > 0) argv = [...command, ...args];
  else if (args.length > 0) argv = [...entrypoint, ...args];
  else argv = [...entrypoint, ...(image?.Cmd ?? [])];
  if (argv.length === 0) throw new InvalidArgumentError("no command specified");
  return argv;
}

/** PATH default, HOSTNAME, the image's Env, then the container's envs; a later key wins, keeping its first place. */
export function processEnv(hostname: string | undefined, imageEnv: readonly string[], envs: readonly { key: string; value: string }[]): string[] {
  const env = new Map<string, string>();
  env.set("PATH", DEFAULT_PATH);
  if (hostname) env.set("HOSTNAME", hostname);
  for (const kv of imageEnv) {
    const i = kv.indexOf("=");
    if (i < 0) env.set(kv, "");
    else env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  for (const kv of envs) env.set(kv.key, kv.value);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

function capName(c: string): string {
  const up = c.toUpperCase();
  return up.startsWith("CAP_") ? up : `CAP_${up}`;
}

/** The capabilities in a `/proc/<pid>/status` mask such as CapBnd (bit n = ALL_CAPABILITIES[n]). */
export function capabilitiesInMask(hex: string): string[] {
  const mask = BigInt(`0x${hex}`);
  return ALL_CAPABILITIES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

/**
 * Docker's default set with `add` then `drop` applied (`ALL` in either names every capability).
 * `ALL` and privileged mean every capability the host can give (`available`: podyard's own
 * bounding set; this host's root lacks CAP_SYS_RESOURCE, and asking for it fails capset).
 */
export function capabilities(add: readonly string[] = [], drop: readonly string[] = [], privileged = false, available: readonly string[] = ALL_CAPABILITIES): string[] {
  if (privileged) return ALL_CAPABILITIES.filter((c) => available.includes(c));
  const addNames = add.map(capName);
  const dropNames = drop.map(capName);
  for (const c of [...addNames, ...dropNames]) {
    if (c !== "CAP_ALL" && !ALL_CAPABILITIES.includes(c)) throw new InvalidArgumentError(`unknown capability "${c}"`);
  }
  let caps = new Set(addNames.includes("CAP_ALL") ? ALL_CAPABILITIES.filter((c) => available.includes(c)) : DEFAULT_CAPABILITIES);
  for (const c of addNames) if (c !== "CAP_ALL") caps.add(c);
  if (dropNames.includes("CAP_ALL")) caps = new Set(addNames.filter((c) => c !== "CAP_ALL" && !addNames.includes("CAP_ALL")));
  for (const c of dropNames) caps.delete(c);
  return ALL_CAPABILITIES.filter((c) => caps.has(c));
}

/** containerd's device rules: deny all, then the usual character devices, and mknod of anything. */
export function deviceRules(privileged: boolean): OciSpec["linux"]["resources"]["devices"] {
  if (privileged) return [{ allow: true, access: "rwm" }];
  const c = (major: number, minor: number | undefined, access = "rwm"): OciSpec["linux"]["resources"]["devices"][number] => ({
    allow: true, type: "c", major, ...(minor !== undefined ? { minor } : {}), access,
  });
  return [
    { allow: false, access: "rwm" },
    { allow: true, type: "c", access: "m" },
    { allow: true, type: "b", access: "m" },
    c(1, 3), c(1, 5), c(1, 7), c(1, 8), c(1, 9), c(5, 0), c(5, 1), c(5, 2), c(136, undefined),
  ];
}

/** The cgroup limits of `linux.resources`, refused when the host cannot give them. */
export function resourceLimits(r: LinuxContainerResources | undefined): Omit<OciSpec["linux"]["resources"], "devices"> {
  const out: Omit<OciSpec["linux"]["resources"], "devices"> = {};
  if (!r) return out;
  if (r.memoryLimitInBytes !== undefined && r.memoryLimitInBytes > 0) {
    if (r.memoryLimitInBytes < MIN_MEMORY_LIMIT) {
      throw new InvalidArgumentError(`memory limit ${r.memoryLimitInBytes} bytes is below the minimum the runtime accepts: minimum memory limit allowed is 6MB`);
    }
    // no swap beyond the limit, as the kubelet asks for
    out.memory = { limit: r.memoryLimitInBytes, swap: r.memoryLimitInBytes };
  }
  const cpu: NonNullable<OciSpec["linux"]["resources"]["cpu"]> = {};
  if (r.cpuShares !== undefined && r.cpuShares > 0) cpu.shares = Math.min(262144, Math.max(2, r.cpuShares));
  if (r.cpuQuota !== undefined && r.cpuQuota > 0) {
    if (r.cpuQuota < 1000) throw new InvalidArgumentError(`CPU cfs quota ${r.cpuQuota} cannot be less than 1ms (i.e. 1000)`);
    cpu.quota = r.cpuQuota;
    cpu.period = r.cpuPeriod && r.cpuPeriod > 0 ? r.cpuPeriod : 100000;
  }
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.pidsLimit !== undefined && r.pidsLimit > 0) out.pids = { limit: r.pidsLimit };
  return out;
}

const PROPAGATION: Record<string, string> = {
  PROPAGATION_PRIVATE: "rprivate",
  PROPAGATION_HOST_TO_CONTAINER: "rslave",
  PROPAGATION_BIDIRECTIONAL: "rshared",
};

/** A CRI mount as an OCI mount: a tmpfs, or an rbind of the host path, `ro` when read-only. */
export function ociMount(m: Mount): OciMount {
  if (!m.containerPath.startsWith("/")) throw new InvalidArgumentError(`mount destination ${m.containerPath} is not an absolute path`);
  if (m.tmpfs) {
    const size = m.tmpfs.sizeBytes !== undefined ? [`size=${m.tmpfs.sizeBytes}`] : [];
    return { destination: m.containerPath, type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "mode=1777", ...size, ...(m.readonly ? ["ro"] : [])] };
  }
  return {
    destination: m.containerPath,
    type: "bind",
    source: m.hostPath,
    options: ["rbind", m.readonly ? "ro" : "rw", PROPAGATION[m.propagation ?? "PROPAGATION_PRIVATE"] ?? "rprivate"],
  };
}

/** The mounts every container gets, in the order runc and crun need them. */
export function baseMounts(privileged: boolean): OciMount[] {
  return [
    { destination: "/proc", type: "proc", source: "proc", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
    { destination: "/dev/pts", type: "devpts", source: "devpts", options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
    { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
    { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", privileged ? "rw" : "ro"] },
    { destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"] },
  ];
}

export interface SpecInput {
  config: ContainerConfig;
  image: ImageConfig["config"];
  hostname: string | undefined;
  rootfs: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  /** The sandbox's namespace files. */
  namespaces: { net: string; ipc: string; uts: string };
  cgroupsPath: string;
  /** /etc/hostname, /etc/resolv.conf, the sandbox's /dev/shm (and whatever else the runtime adds), as host paths. */
  extraMounts: OciMount[];
  /** The capabilities the host can give (default: all). */
  hostCapabilities?: readonly string[];
  /**
   * The lowest oom_score_adj this host lets us give (our own, when we lack CAP_SYS_RESOURCE):
   * the kubelet's -997 for a Guaranteed pod is raised to it, as containerd's
   * restrict_oom_score_adj does, instead of failing the start.
   */
  minOomScoreAdj?: number;
}

export function generateSpec(input: SpecInput): OciSpec {
  const { config } = input;
  const sc = config.linux?.securityContext;
  const privileged = sc?.privileged === true;
  const caps = capabilities(sc?.capabilities?.addCapabilities, sc?.capabilities?.dropCapabilities, privileged, input.hostCapabilities);
  const cwd = config.workingDir || input.image?.WorkingDir || "/";
  if (!cwd.startsWith("/")) throw new InvalidArgumentError(`working directory ${cwd} is not an absolute path`);
  const userMounts = (config.mounts ?? []).map(ociMount);
  const taken = new Set(userMounts.map((m) => m.destination));
  // a private /dev/shm unless the runtime binds the sandbox's
  const shm = input.extraMounts.some((m) => m.destination === "/dev/shm")
    ? []
    : [{ destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] }];
  const runtimeMounts = [...input.extraMounts, ...shm].filter((m) => !taken.has(m.destination));
  const spec: OciSpec = {
    ociVersion: "1.0.2",
    process: {
      terminal: config.tty === true,
      user: { uid: input.user.uid, gid: input.user.gid, ...(input.user.additionalGids.length > 0 ? { additionalGids: input.user.additionalGids } : {}) },
      args: processArgs(config, input.image),
      env: processEnv(input.hostname, input.image?.Env ?? [], config.envs ?? []),
      cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      // containerd sets no_new_privs unless privileged or allowPrivilegeEscalation asks otherwise
      noNewPrivileges: sc?.noNewPrivs ?? !privileged,
      ...(config.linux?.resources?.oomScoreAdj !== undefined
        ? { oomScoreAdj: Math.max(config.linux.resources.oomScoreAdj, input.minOomScoreAdj ?? -1000) }
        : {}),
    },
    root: { path: input.rootfs, readonly: sc?.readonlyRootfs === true },
    mounts: [...baseMounts(privileged), ...runtimeMounts, ...userMounts],
    annotations: config.annotations ?? {},
    linux: {
      namespaces: [
        { type: "pid" },
        { type: "ipc", path: input.namespaces.ipc },
        { type: "uts", path: input.namespaces.uts },
        { type: "mount" },
        { type: "network", path: input.namespaces.net },
      ],
      cgroupsPath: input.cgroupsPath,
      resources: { devices: deviceRules(privileged), ...resourceLimits(config.linux?.resources) },
    },
  };
  if (!privileged) {
    spec.linux.maskedPaths = sc?.maskedPaths ?? DEFAULT_MASKED_PATHS;
    spec.linux.readonlyPaths = sc?.readonlyPaths ?? DEFAULT_READONLY_PATHS;
  }
  return spec;
}
