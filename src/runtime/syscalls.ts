/**
 * What the one-process perl helpers (the hybrid-cgroup crun wrapper, the sandbox's set-up) need to
 * make system calls themselves: the numbers by architecture (perl is Essential on Debian, its
 * `syscall` takes them), and a way to put a path into a script as a literal.
 */

export interface SyscallNumbers {
  unshare: number;
  mount: number;
  umount2: number;
}

/** unshare, mount and umount2 by architecture; another architecture takes the shell versions. */
export const SYSCALLS: Partial<Record<NodeJS.Architecture, SyscallNumbers>> = {
  x64: { unshare: 272, mount: 165, umount2: 166 },
  arm64: { unshare: 97, mount: 40, umount2: 39 },
};

/** A perl single-quoted literal (no interpolation). */
export function perlString(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
