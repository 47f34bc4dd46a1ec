// Unmounts what a tool left mounted under one of the benchmark's own temp dirs (podman's overlay driver may
// leave its graphroot bind-mounted), deepest first, before the dir is removed. Mounts anywhere else are
// never touched.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** `\040`-style escapes of /proc/self/mountinfo paths. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Mount points at or below `dir`, deepest (then latest) first. */
export function mountsUnder(dir: string): string[] {
  let info: string;
  try {
    info = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const root = dir.replace(/\/+$/, "");
  const found: string[] = [];
  for (const line of info.split("\n")) {
    const field = line.split(" ")[4];
    if (field === undefined) continue;
    const point = unescapeMountPath(field);
    if (point === root || point.startsWith(`${root}/`)) found.push(point);
  }
  return found.map((p, i) => ({ p, i })).sort((a, b) => b.p.split("/").length - a.p.split("/").length || b.i - a.i).map((x) => x.p);
}

/** Unmounts everything at or below `dir`; falls back to a lazy unmount. Returns what it unmounted. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  for (const point of mountsUnder(dir)) {
    try {
      await run("umount", [point]);
    } catch {
      await run("umount", ["-l", point]);
    }
    done.push(point);
  }
  return done;
}

/** The synchronous version, for the exit-time fallback. */
export function unmountUnderSync(dir: string): void {
  for (const point of mountsUnder(dir)) {
    try {
      execFileSync("umount", [point], { stdio: "ignore" });
    } catch {
      try {
        execFileSync("umount", ["-l", point], { stdio: "ignore" });
      } catch {
        // best effort at exit
      }
    }
  }
}
