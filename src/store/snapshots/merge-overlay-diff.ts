/**
 * Applies a tree in overlayfs' diff form (what a layer extracted on its own leaves: 0:0
 * character devices for deleted entries, `*.overlay.opaque=y` on directories that hide
 * what is below them) onto a full tree, the way an overlay mount would show the two
 * stacked. The copying snapshotters need it to rebase a layer onto its parent at commit.
 *
 * Copies go through coreutils' `cp -a`, which keeps owners, modes, times, xattrs, devices
 * and the hard links among the entries copied; opaque markers are read and cleared with
 * getfattr/setfattr (Node has no xattr calls).
 */
import { execFile } from "node:child_process";
import type { Stats } from "node:fs";
import { lstat, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { errnoCode } from "../../errdefs/index.js";

const exec = promisify(execFile);

/** The opaque markers the layer applier sets: `trusted.*` as root, `user.*` otherwise. */
const OPAQUE_XATTR = /^(trusted|user)\.overlay\.opaque$/;

async function tool(cmd: string, args: string[]): Promise<string> {
  try {
    return (await exec(cmd, args, { maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    const pkg = cmd === "cp" ? "coreutils" : "attr";
    if (errnoCode(err) === "ENOENT") throw new Error(`${cmd} not found: install the Debian package ${pkg}`, { cause: err });
    throw new Error(`${cmd} ${args.join(" ")}: ${String((err as { stderr?: unknown }).stderr ?? "").trim() || (err as Error).message}`, { cause: err });
  }
}

/** Copies the contents of `from` into the directory `to`, replacing what is in the way. */
export async function copyTree(from: string, to: string): Promise<void> {
  await tool("cp", ["-a", "--remove-destination", "--", `${from}/.`, to]);
}

/** getfattr's path quoting: `\ooo` octal escapes for bytes outside plain ASCII. */
function unquote(s: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const m = /^\\([0-7]{3})/.exec(s.slice(i, i + 4));
    if (m?.[1] !== undefined) {
      bytes.push(parseInt(m[1], 8));
      i += 3;
    } else bytes.push(...Buffer.from(s[i] ?? "", "utf8"));
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Directories under `dir` (relative paths) carrying an opaque marker, with the xattr's name. */
async function opaqueDirs(dir: string): Promise<Map<string, string>> {
  const out = await tool("getfattr", ["-R", "-h", "--absolute-names", "-d", "-m", OPAQUE_XATTR.source, "--", dir]);
  const found = new Map<string, string>();
  let file: string | undefined;
  for (const line of out.split("\n")) {
    if (line.startsWith("# file: ")) file = unquote(line.slice("# file: ".length));
    else if (file !== undefined && line.includes("=")) {
      const name = line.slice(0, line.indexOf("="));
      if (OPAQUE_XATTR.test(name)) found.set(file === dir ? "" : file.slice(dir.length + 1), name);
    }
  }
  return found;
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await lstat(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR") return undefined;
    throw err;
  }
}

/**
 * Makes `target` (a full tree) show `diff` stacked on it: whiteouts delete, opaque
 * directories replace, directories merge, everything else replaces. Neither whiteouts nor
 * opaque markers are left in `target`.
 */
export async function mergeOverlayDiff(diff: string, target: string): Promise<void> {
  const opaque = await opaqueDirs(diff);
  const whiteouts: string[] = [];
  const clear = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(diff, rel))) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(join(diff, r));
      const there = await lstatOrUndefined(join(target, r));
      if (isWhiteout(st)) {
        whiteouts.push(r);
        if (there !== undefined) await rm(join(target, r), { recursive: true, force: true });
      } else if (st.isDirectory()) {
        if (there !== undefined && (!there.isDirectory() || opaque.has(r))) await rm(join(target, r), { recursive: true, force: true });
        await clear(r);
      } else if (there?.isDirectory()) {
        await rm(join(target, r), { recursive: true, force: true });
      }
    }
  };
  if (opaque.has("")) {
    for (const name of await readdir(target)) await rm(join(target, name), { recursive: true, force: true });
  }
  await clear("");
  await copyTree(diff, target);
  for (const r of whiteouts) await rm(join(target, r), { force: true });
  for (const [r, name] of opaque) await tool("setfattr", ["-h", "-x", name, "--", r === "" ? target : join(target, r)]);
}
