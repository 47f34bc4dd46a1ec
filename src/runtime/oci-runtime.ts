/**
 * The OCI runtime driver: crun (through the hybrid-cgroup wrapper, runtime-notes §3.1) or runc,
 * each with a private `--root` and the cgroupfs manager, with conmon supervising every container
 * (runtime-notes §7) so exit codes and logs outlive podyard.
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { access, chmod, constants, mkdir, readFile, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { FailedPreconditionError, UnavailableError } from "../errdefs/index.js";
import { runTool, runtimeMessage } from "./run-tool.js";
import { perlString, SYSCALLS } from "./syscalls.js";
import type { RuntimePaths } from "./paths.js";

export type OciRuntimeName = "crun" | "runc";

// crun refuses hybrid cgroup hosts (controllers in /sys/fs/cgroup/unified); in a private mount
// namespace with the cgroup2 mount lazily unmounted it sees plain cgroup v1. Which of the two
// the host is, is decided once at init (saving a `cat` per call).
const CRUN_WRAPPER_HYBRID_SH = `#!/bin/sh
exec unshare -m sh -c 'umount -l /sys/fs/cgroup/unified && exec crun "$@"' crun "$@"
`;


/**
 * The same in one process (perl is Essential on Debian): the shell version costs three more
 * programs (sh, unshare, umount) on every create, exec and delete, ~5 ms each time here.
 * `/` is made private first, as unshare(1) does, so the unmount never reaches the host.
 *
 * In the same private namespace the crun binary is bind-mounted read-only onto itself and
 * `_LIBCONTAINER_CLONED_BINARY=1` set: the way runc's and crun's CVE-2019-5736 guard documents
 * for a binary a container cannot write to, so crun skips copying itself to a temporary file and
 * executing that copy (one more exec and 11 shared libraries loaded again, ~1.5 ms a call here).
 * A container's process that opens /proc/<crun>/exe for writing meets the read-only mount.
 */
function crunWrapperHybrid(arch: NodeJS.Architecture, crun: string): string {
  const n = SYSCALLS[arch];
  if (n === undefined) return CRUN_WRAPPER_HYBRID_SH;
  return `#!/usr/bin/perl
# crun wrapper for hybrid cgroup hosts (written by podyard): unshare(CLONE_NEWNS),
# mount --make-rprivate /, umount -l /sys/fs/cgroup/unified, crun bound read-only, exec crun
my ($root, $unified, $crun) = ("/", "/sys/fs/cgroup/unified", ${perlString(crun)});
syscall(${n.unshare}, 0x20000) == 0 or die "crun wrapper: unshare(CLONE_NEWNS): $!\n";
syscall(${n.mount}, 0, $root, 0, 0x4000 | 0x40000, 0) == 0 or die "crun wrapper: making / private: $!\n";
syscall(${n.umount2}, $unified, 2) == 0 or die "crun wrapper: umount $unified: $!\n";
# MS_BIND, then MS_REMOUNT|MS_BIND|MS_RDONLY; when either fails crun guards itself by its copy
if (syscall(${n.mount}, $crun, $crun, 0, 0x1000, 0) == 0 && syscall(${n.mount}, 0, $crun, 0, 0x20 | 0x1000 | 0x1, 0) == 0) {
  $ENV{_LIBCONTAINER_CLONED_BINARY} = "1";
}
exec { $crun } "crun", @ARGV or die "crun wrapper: exec $crun: $!\n";
`;
}
const CRUN_WRAPPER_PLAIN = `#!/bin/sh
exec crun "$@"
`;

async function hybridCgroups(): Promise<boolean> {
  return (await readFile("/sys/fs/cgroup/unified/cgroup.controllers", "utf8").catch(() => "")).trim() !== "";
}

export async function findExecutable(name: string): Promise<string> {
  for (const dir of (process.env.PATH ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(delimiter)) {
    const p = join(dir, name);
    try {
      await access(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  throw new FailedPreconditionError(`${name} not found in $PATH: install it (Debian: apt-get install ${name})`);
}

export interface OciState {
  id: string;
  pid: number;
  status: "creating" | "created" | "running" | "stopped" | "paused";
}

export class OciRuntime {
  readonly name: OciRuntimeName;
  readonly #paths: RuntimePaths;
  #binary = "";
  #conmon = "";

  constructor(name: OciRuntimeName, paths: RuntimePaths) {
    this.name = name;
    this.#paths = paths;
  }

  async init(): Promise<void> {
    await mkdir(this.#paths.ociRoot, { recursive: true, mode: 0o700 });
    await mkdir(this.#paths.exits, { recursive: true });
    const binary = await findExecutable(this.name);
    this.#conmon = await findExecutable("conmon");
    if (this.name === "crun") {
      const hybrid = await hybridCgroups();
      const perl = hybrid && (await findExecutable("perl").then(() => true, () => false));
      await writeFile(this.#paths.crunWrapper, !hybrid ? CRUN_WRAPPER_PLAIN : perl ? crunWrapperHybrid(process.arch, binary) : CRUN_WRAPPER_HYBRID_SH);
      await chmod(this.#paths.crunWrapper, 0o755);
      this.#binary = this.#paths.crunWrapper;
    } else {
      this.#binary = await findExecutable("runc");
    }
  }

  /** The program and global flags every runtime call starts with. */
  get binary(): string {
    return this.#binary;
  }

  get globalArgs(): string[] {
    return this.name === "crun" ? [`--root=${this.#paths.ociRoot}`, "--cgroup-manager=cgroupfs"] : [`--root=${this.#paths.ociRoot}`];
  }

  exitFile(id: string): string {
    return join(this.#paths.exits, id);
  }

  /**
   * Creates the container under conmon (which stays as its parent), answering only once the
   * runtime's `create` finished: with the container's PID, or the runtime's error message.
   */
  async create(id: string, bundle: string, logPath: string, opts: { tty: boolean; stdin?: boolean; stdinOnce?: boolean }): Promise<number> {
    const args = [
      "--api-version", "1", "-c", id, "-u", id, "-n", id, "-r", this.#binary, "-b", bundle,
      "-p", join(bundle, "pid"), "-P", join(bundle, "conmon.pid"), "-l", `k8s-file:${logPath}`,
      "--exit-dir", this.#paths.exits, "--socket-dir-path", join(this.#paths.root, "sockets"),
      ...(opts.tty ? ["-t"] : []),
      // stdin through the attach socket; kept open across attaches unless stdinOnce
      ...(opts.stdin ? ["-i", ...(opts.stdinOnce ? [] : ["--leave-stdin-open"])] : []),
      ...this.globalArgs.flatMap((a) => ["--runtime-arg", a]),
    ];
    await mkdir(join(this.#paths.root, "sockets"), { recursive: true });
    // conmon outlives podyard: its stderr goes to a file, never to a pipe that dies with us
    const errLog = join(bundle, "conmon.log");
    const errFd = openSync(errLog, "a");
    return new Promise<number>((resolve, reject) => {
      const child = spawn(this.#conmon, args, {
        stdio: ["ignore", "ignore", errFd, "pipe"],
        env: { ...process.env, _OCI_SYNCPIPE: "3" },
        detached: true,
        cwd: bundle,
      });
      let sync = "";
      let done = false;
      const pipe = child.stdio[3] as (NodeJS.ReadableStream & { destroy(): void }) | null;
      const stderr = (): string => {
        try {
          return readFileSync(errLog, "utf8");
        } catch {
          return "";
        }
      };
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        pipe?.destroy();
        fn();
      };
      pipe?.on("data", (d: Buffer) => {
        sync += d.toString();
        // conmon writes one JSON object per line; its message may hold braces of its own (runc's Go traces)
        const nl = sync.indexOf("\n");
        if (nl < 0) return;
        let msg: { data: number; message?: string };
        try {
          msg = JSON.parse(sync.slice(0, nl)) as { data: number; message?: string };
        } catch {
          msg = { data: -1, message: `conmon sent ${sync.slice(0, nl)}` };
        }
        finish(() => {
          if (msg.data > 0) resolve(msg.data);
          else reject(new UnavailableError(cleanConmonMessage(msg.message ?? stderr())));
        });
      });
      child.on("error", (err) => finish(() => reject(new UnavailableError(`conmon: ${err.message}`, { cause: err }))));
      child.on("close", () => finish(() => reject(new UnavailableError(cleanConmonMessage(stderr()) || `conmon exited before ${this.name} created container ${id}`))));
      child.unref();
    }).finally(() => closeSync(errFd));
  }

  async start(id: string): Promise<void> {
    await this.#call(["start", id], true);
  }

  async kill(id: string, signal: string): Promise<void> {
    await this.#call(["kill", id, signal.replace(/^SIG/, "")], true);
  }

  async delete(id: string, force = false): Promise<void> {
    await this.#call(["delete", ...(force ? ["--force"] : []), id]);
  }

  /** The runtime's state of `id`, or undefined when it knows no such container. */
  async state(id: string): Promise<OciState | undefined> {
    try {
      const { stdout } = await runTool(this.#binary, [...this.globalArgs, "state", id]);
      return JSON.parse(stdout) as OciState;
    } catch (err) {
      if (/does not exist|not exist|No such file/i.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  /**
   * The argv of `exec` in `id` running `processFile` (an OCI process JSON: the container's own
   * user, env, cwd, capabilities and no_new_privs with other args), for the caller to spawn with
   * pipes or a pty. Without it crun would exec with capabilities beyond the container's bounding set.
   */
  execArgs(id: string, processFile: string, opts: { tty: boolean; pidFile?: string }): string[] {
    return [
      ...this.globalArgs, "exec", ...(opts.tty ? ["-t"] : []), "--process", processFile,
      ...(opts.pidFile ? ["--pid-file", opts.pidFile] : []),
      id,
    ];
  }

  /**
   * `start` and `kill` touch no cgroup: crun runs them unwrapped with cgroups disabled (runtime-notes
   * §3.1), saving the wrapper's two extra processes. Everything that creates, joins or removes a
   * container's cgroups (create, exec, delete) goes through the wrapper.
   */
  async #call(args: string[], cgroupFree = false): Promise<void> {
    const [file, global] = cgroupFree && this.name === "crun"
      ? ["crun", [`--root=${this.#paths.ociRoot}`, "--cgroup-manager=disabled"]]
      : [this.#binary, this.globalArgs];
    try {
      await runTool(file, [...global, ...args]);
    } catch (err) {
      const stderr = (err as Error).message.split(": ").slice(1).join(": ");
      throw new UnavailableError(`${this.name} ${args.join(" ")}: ${runtimeMessage(stderr) || (err as Error).message}`, { cause: err });
    }
  }
}

/** conmon hands the runtime's stderr through, escaped once more for runc's logfmt; keep the runtime's own sentence. */
function cleanConmonMessage(message: string): string {
  let text = message.trim();
  if (/^time=\\"/.test(text)) text = text.replace(/\\(.)/g, "$1");
  return runtimeMessage(text) || text;
}
