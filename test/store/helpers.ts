/**
 * Helpers for the snapshot tests: temporary directories, tar builders (tar-stream for
 * ordinary layers, raw ustar/PAX blocks for malformed ones), a tree fingerprint to prove
 * that nothing outside a directory changed, and mounting the snapshotter's mounts as root.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Readable } from "node:stream";
import { pack, type Header } from "tar-stream";
import { errorClass } from "../../src/errdefs/index.js";
import { compactMount, type Mount } from "../../src/store/index.js";

export const isRoot = process.geteuid?.() === 0;

export const isResourceExhausted = (err: unknown): boolean => errorClass(err) === "ResourceExhausted";

export async function tempDir(prefix = "podyard-snap-"): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Runs `fn` on a new temporary directory and removes it (unmounting what is under it) whatever happens. */
export async function withRoot(fn: (root: string) => Promise<void>): Promise<void> {
  const root = await tempDir();
  try {
    await fn(root);
  } finally {
    await removeAll(root);
  }
}

export function run(cmd: string, args: string[], input?: Buffer, cwd?: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: "buffer", maxBuffer: 256 * 1024 * 1024, ...(cwd === undefined ? {} : { cwd }) }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${stderr.toString().trim() || err.message}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

export interface TestEntry {
  name: string;
  type?: Header["type"];
  content?: string | Buffer;
  linkname?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  devmajor?: number;
  devminor?: number;
  pax?: Record<string, string>;
}

/** A tar built by tar-stream from `entries`, in the given order. */
export async function tarOf(entries: readonly TestEntry[]): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of p as AsyncIterable<Buffer>) chunks.push(c);
  })();
  for (const e of entries) {
    const body = e.content === undefined ? undefined : Buffer.from(e.content);
    const header: Partial<Header> & { name: string } = {
      name: e.name, type: e.type ?? "file", mode: e.mode ?? (e.type === "directory" ? 0o755 : 0o644),
      uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? new Date(1_000_000_000_000), size: body?.length ?? 0,
    };
    if (e.linkname !== undefined) header.linkname = e.linkname;
    if (e.devmajor !== undefined) header.devmajor = e.devmajor;
    if (e.devminor !== undefined) header.devminor = e.devminor;
    if (e.pax !== undefined) header.pax = e.pax;
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (body === undefined) p.entry(header, cb).end(null);
      else p.entry(header, body, cb);
    });
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface RawHeader {
  name: string;
  /** Type flag character: "0" file, "1" hardlink, "2" symlink, "5" dir, "x" PAX, "L" GNU long name... */
  type?: string;
  size?: number;
  linkname?: string;
  mode?: number;
  magic?: "ustar" | "gnu";
}

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

/** One 512-byte header block with whatever name bytes are given (no normalisation at all). */
export function rawHeader(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, "utf8");
  b.write(octal(h.mode ?? (h.type === "5" ? 0o755 : 0o644), 8), 100, "latin1");
  b.write(octal(0, 8), 108, "latin1");
  b.write(octal(0, 8), 116, "latin1");
  b.write(octal(h.size ?? 0, 12), 124, "latin1");
  b.write(octal(1_000_000_000, 12), 136, "latin1");
  b.write(h.type ?? "0", 156, "latin1");
  if (h.linkname !== undefined) b.write(h.linkname, 157, 100, "utf8");
  if (h.magic === "gnu") b.write("ustar  \0", 257, "latin1");
  else b.write("ustar\u000000", 257, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

function pad(data: Buffer): Buffer {
  const extra = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(extra)]);
}

/** A header plus its data, padded to the block size. */
export function rawEntry(h: RawHeader, data: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.concat([rawHeader({ ...h, size: h.size ?? data.length }), pad(data)]);
}

/** A PAX extended header ("x") with the given records, values as bytes. */
export function rawPax(records: ReadonlyArray<readonly [string, string | Buffer]>, name = "PaxHeader"): Buffer {
  const body = Buffer.concat(records.map(([k, v]) => {
    const rest = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from("\n")]);
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
    return Buffer.concat([Buffer.from(String(len)), rest]);
  }));
  return rawEntry({ name, type: "x" }, body);
}

export const END = Buffer.alloc(1024);

/** A readable that gives `data` in chunks of `size` bytes (to cross header boundaries). */
export function chunked(data: Buffer, size = 65536): Readable {
  return Readable.from((function* () {
    for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
  })(), { objectMode: false });
}

/**
 * A fingerprint of every path under `dir` (not following links): type, mode, owner, size,
 * mtime, content hash, link target, device. `skip` names top-level entries to leave out.
 */
export async function fingerprint(dir: string, skip: readonly string[] = []): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const visit = async (rel: string): Promise<void> => {
    const path = rel === "" ? dir : join(dir, rel);
    const st = await lstat(path);
    let detail = "";
    if (st.isFile()) detail = createHash("sha256").update(await readFile(path)).digest("hex");
    else if (st.isSymbolicLink()) detail = await readlink(path);
    else if (st.isCharacterDevice() || st.isBlockDevice()) detail = String(st.rdev);
    out.set(rel, `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${st.nlink} ${detail}`);
    if (st.isDirectory()) {
      for (const name of (await readdir(path)).sort()) {
        if (rel === "" && skip.includes(name)) continue;
        await visit(rel === "" ? name : `${rel}/${name}`);
      }
    }
  };
  await visit("");
  return out;
}

/** Every path under `dir`, sorted, with a type letter: `d a`, `f a/b`, `l a/c -> x`, `c a/d 0:0`. */
export async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(rel === "" ? dir : join(dir, rel))).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(join(dir, r));
      if (st.isDirectory()) {
        out.push(`d ${r}`);
        await visit(r);
      } else if (st.isSymbolicLink()) out.push(`l ${r} -> ${await readlink(join(dir, r))}`);
      else if (st.isCharacterDevice()) out.push(`c ${r} ${Math.floor(st.rdev / 256)}:${st.rdev % 256}`);
      else if (st.isBlockDevice()) out.push(`b ${r}`);
      else if (st.isFIFO()) out.push(`p ${r}`);
      else out.push(`f ${r}`);
    }
  };
  await visit("");
  return out;
}

/** The value of xattr `name` on `path` (not following links), or undefined. */
export async function getXattr(path: string, name: string): Promise<Buffer | undefined> {
  try {
    const out = (await run("getfattr", ["-h", "--absolute-names", "-e", "hex", "-n", name, "--", path])).toString();
    const m = /=0x([0-9a-f]*)/.exec(out);
    return m ? Buffer.from(m[1] ?? "", "hex") : Buffer.alloc(0);
  } catch {
    return undefined;
  }
}

/**
 * Performs `mounts` on `target` (as root), the way a runtime would: overlay options too long
 * for mount(2) are compacted (relative lowerdirs, mounted from their common parent).
 */
export async function mountAll(mounts: readonly Mount[], target: string): Promise<void> {
  await mkdir(target, { recursive: true });
  const abs = resolve(target);
  for (const m of mounts) {
    if (m.type === "bind") {
      await run("mount", ["--rbind", m.source, abs]);
      if (m.options.includes("ro")) await run("mount", ["-o", "remount,bind,ro", abs]);
    } else {
      const { options, cwd } = compactMount(m);
      await run("mount", ["-t", m.type, m.source, "-o", options.join(","), abs], undefined, cwd);
    }
  }
}

/** Unmounts `target` if something is mounted there; never throws. */
export async function unmount(target: string): Promise<void> {
  const abs = resolve(target);
  for (let i = 0; i < 4 && (await mountsUnder(abs)).includes(abs); i++) {
    try {
      await run("umount", [abs]);
    } catch {
      return;
    }
  }
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo). */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile("/proc/self/mountinfo", "utf8");
  const points = info.split("\n").map((l) => l.split(" ")[4] ?? "").map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return points.filter((p) => p === dir || p.startsWith(`${dir}/`)).sort((a, b) => b.length - a.length);
}

/** Removes `paths`, first unmounting anything mounted under them (never delete through a mount). */
export async function removeAll(...paths: string[]): Promise<void> {
  for (const p of paths) {
    for (const m of await mountsUnder(p)) await unmount(m);
    if ((await mountsUnder(p)).length > 0) throw new Error(`refusing to remove ${p}: something is still mounted under it`);
    await rm(p, { recursive: true, force: true });
  }
}

