/**
 * The kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files live in a
 * timestamped directory, reached through the `..data` symlink, and each top-level name is a
 * symlink through `..data`. A new payload goes into a fresh directory and `..data` is swapped by a
 * rename, so a reader in the container sees the old set of files or the new one, never a mix.
 */
import { randomBytes } from "node:crypto";
import { chmod, lchown, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Clock } from "../../clock/index.js";
import { realClock } from "../../clock/index.js";
import { errnoCode } from "../../errdefs/index.js";
import { VolumePluginError } from "./types.js";

export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** Relative path → content and mode. */
export type Payload = Map<string, FileProjection>;

const DATA = "..data";
const DATA_TMP = "..data_tmp";

/** The error for a payload path the writer refuses (`validatePath`), or undefined. */
export function payloadPathError(path: string): string | undefined {
  if (path.length > 4096) return `invalid path: must be less than or equal to 4096 characters`;
  if (path.startsWith("/")) return `invalid path: must be relative path: ${path}`;
  const parts = path.split("/");
  for (const part of parts) if (part.length > 255) return `invalid path: filenames must be less than or equal to 255 characters`;
  if (parts.includes("..")) return `invalid path: must not contain '..': ${path}`;
  if (path.startsWith("..")) return `invalid path: must not start with '..': ${path}`;
  if (path === "" || parts.includes("")) return `invalid path: must not be empty: ${path}`;
  return undefined;
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** `..2006_01_02_15_04_05.` in UTC, the prefix of each payload directory. */
function tsPrefix(ms: number): string {
  const d = new Date(ms);
  return `..${d.getUTCFullYear()}_${two(d.getUTCMonth() + 1)}_${two(d.getUTCDate())}_${two(d.getUTCHours())}_${two(d.getUTCMinutes())}_${two(d.getUTCSeconds())}.`;
}

async function readLinkIfAny(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (err) {
    if (errnoCode(err) === "ENOENT" || errnoCode(err) === "EINVAL") return undefined;
    throw err;
  }
}

/** Every file under `dir`, relative, with its content and mode. */
async function readTree(dir: string, prefix = ""): Promise<Payload> {
  const out: Payload = new Map();
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) for (const [k, v] of await readTree(dir, rel)) out.set(k, v);
    else out.set(rel, { data: await readFile(join(dir, rel)), mode: (await lstat(join(dir, rel))).mode & 0o7777 });
  }
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || w.mode !== v.mode || !w.data.equals(v.data)) return false;
  }
  return true;
}

function topLevel(payload: Payload): Set<string> {
  return new Set([...payload.keys()].map((p) => p.split("/")[0] ?? p));
}

/** Writes `payload` into `targetDir` atomically; an unchanged payload leaves everything as it is. */
/** The mode a file ends with: the payload's, plus group read when an fsGroup owns the volume (`roMask`). */
function finalMode(mode: number, fsGroup: number | undefined): number {
  return fsGroup === undefined ? mode : mode | 0o440;
}

/**
 * Gives the fsGroup the volume as the kubelet's `SetVolumeOwnership` does for read-only volumes:
 * group ownership of everything, group read on files, and group read/search plus setgid on directories.
 */
export async function applyFsGroup(path: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const st = await lstat(path);
  await lchown(path, -1, fsGroup);
  if (st.isSymbolicLink()) return;
  const mask = readOnly ? 0o440 : 0o660;
  if (st.isDirectory()) {
    await chmod(path, (st.mode & 0o7777) | mask | 0o2000 | 0o110);
    for (const e of await readdir(path)) await applyFsGroup(join(path, e), fsGroup, readOnly);
  } else {
    await chmod(path, (st.mode & 0o7777) | mask);
  }
}

export interface WriteAtomicOptions {
  /** Names the timestamped payload directories (default: the real clock). */
  clock?: Clock;
  /** The pod's fsGroup: it owns the files, which it can read (`SetVolumeOwnership`). */
  fsGroup?: number;
}

export async function writeAtomic(targetDir: string, payload: Payload, opts: WriteAtomicOptions = {}): Promise<void> {
  for (const path of payload.keys()) {
    const err = payloadPathError(path);
    if (err) throw new VolumePluginError(err);
  }
  const oldDirName = await readLinkIfAny(join(targetDir, DATA));
  const oldDir = oldDirName ? join(targetDir, oldDirName) : undefined;
  const oldPayload = oldDir ? await readTree(oldDir).catch(() => undefined) : undefined;
  const expected: Payload = new Map([...payload].map(([k, v]) => [k, { data: v.data, mode: finalMode(v.mode, opts.fsGroup) }]));
  if (oldPayload && samePayload(oldPayload, expected)) return;

  const newDirName = tsPrefix((opts.clock ?? realClock).now()) + String(randomBytes(4).readUInt32BE()).padStart(10, "0");
  const newDir = join(targetDir, newDirName);
  await mkdir(newDir, { mode: 0o755 });
  await chmod(newDir, 0o755);
  try {
    for (const [path, file] of payload) {
      const full = join(newDir, path);
      await mkdir(dirname(full), { recursive: true, mode: 0o755 });
      await writeFile(full, file.data, { mode: file.mode });
      await chmod(full, file.mode); // the umask may have narrowed the create mode
    }
    if (opts.fsGroup !== undefined) await applyFsGroup(newDir, opts.fsGroup, true);
    const names = topLevel(payload);
    for (const name of names) {
      try {
        await symlink(join(DATA, name), join(targetDir, name));
      } catch (err) {
        if (errnoCode(err) !== "EEXIST") throw err;
      }
    }
    await rm(join(targetDir, DATA_TMP), { force: true });
    await symlink(newDirName, join(targetDir, DATA_TMP));
    await rename(join(targetDir, DATA_TMP), join(targetDir, DATA));
    // Links of names the new payload no longer has.
    for (const name of oldPayload ? topLevel(oldPayload) : []) {
      if (!names.has(name)) await rm(join(targetDir, name), { force: true });
    }
  } catch (err) {
    await rm(newDir, { recursive: true, force: true });
    throw err;
  }
  if (oldDir) await rm(oldDir, { recursive: true, force: true });
}
