/**
 * Extracts one uncompressed layer tar into a fresh, empty directory (an active snapshot's
 * tree), computing its diffID on the way, and converts OCI whiteouts to overlayfs' form:
 * `.wh.<name>` becomes a 0:0 character device `<name>`, `.wh..wh..opq` in a directory
 * becomes the xattr `trusted.overlay.opaque=y` on it.
 *
 * Safe extraction: nothing is ever created, followed or linked outside `dir`.
 * - Names are normalised as tar does (leading `/` dropped, `.` and `..` resolved) and an entry
 *   whose name still leaves the root fails, as do names with NUL, over 4096 bytes or deeper
 *   than 256 components.
 * - Links are never followed: each parent of an entry is checked with lstat to be a real
 *   directory (a parent that is a symlink fails the layer); the final component is created
 *   with calls that do not follow links (O_CREAT|O_EXCL|O_NOFOLLOW, mkdir, symlink, link,
 *   mknod, lchown, lutimes, lsetxattr; modes through the open file, never by path through a
 *   link). An existing path (the exclusive create fails with EEXIST) is unlinked and
 *   recreated, never written through, unless both it and the entry are directories (then
 *   the attributes merge). Which directories were checked is remembered only until one of
 *   them, or a parent, is replaced.
 * - Hardlink targets must be regular files this layer already extracted inside `dir`.
 * - Directory modes and times are set last, through a descriptor opened O_NOFOLLOW.
 * - Block and character devices are made only when running as root (else skipped with a
 *   note); FIFOs always. Xattrs come from PAX `SCHILY.xattr.*`; `*.overlay.*` ones are
 *   skipped, so a layer cannot forge overlayfs metadata.
 * - Node has no mknod or setxattr, and a child process costs milliseconds, so: the layer's
 *   whiteouts are hard links to the first one it made (one inode, as overlayfs' own
 *   whiteouts share one), and its xattrs (opaque markers included) are set together by one
 *   `setfattr -h --restore` after the last entry, or earlier, just before anything on the
 *   path of one of them is replaced. Their paths pass only directories checked as above.
 * Any violation fails the whole layer with an InvalidArgumentError that names the entry and
 * the rule (caps: ResourceExhaustedError); the caller removes `dir`.
 *
 * Whiteouts never hide entries of their own layer, in whatever order they come: a whiteout
 * of a name this layer already wrote leaves that entry (a directory becomes opaque, so the
 * lower one stays hidden), and a later entry replaces a whiteout this layer made.
 *
 * The directory must belong to this extraction alone: nothing else may change it meanwhile.
 */
import { execFile } from "node:child_process";
import {
  chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, openSync, rmSync,
  symlinkSync, writeSync, type Stats,
} from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import { resolve } from "node:path";
import { Digester, type Digest } from "../../oci/index.js";
import { FailedPreconditionError, InvalidArgumentError, ResourceExhaustedError, errnoCode } from "../../errdefs/index.js";
import { noSpaceError } from "../../fsutil/index.js";
import { TarReader, type TarHeader } from "./tar-reader.js";

export interface ApplyLayerOptions {
  /** Fail once the tar passes this many bytes. */
  maxBytes?: number;
  /** Fail once the tar has more entries than this; default 1,000,000. */
  maxEntries?: number;
  /** Told about each entry skipped rather than extracted (devices when not root, AUFS metadata, ...). */
  onSkip?: (entry: string, reason: string) => void;
}

export interface AppliedLayer {
  /** sha256 of the uncompressed tar: compare with the image config's `rootfs.diff_ids`. */
  diffID: Digest;
  /** Bytes of the uncompressed tar. */
  size: number;
}

const MAX_PATH_BYTES = 4096;
const MAX_DEPTH = 256;
const MAX_HEADER_BYTES = 1 << 20;
const OPAQUE = ".wh..wh..opq";
const WHITEOUT = ".wh.";
const AUFS_META = ".wh..wh.";
const O_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
const O_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Extracts the uncompressed layer tar `tar` into `dir`, which must be an existing, empty
 * directory, and returns the layer's diffID and size.
 */
export async function applyLayer(dir: string, tar: AsyncIterable<Uint8Array>, opts: ApplyLayerOptions = {}): Promise<AppliedLayer> {
  const root = resolve(dir);
  let st: Stats;
  try {
    st = await lstat(root);
  } catch (err) {
    throw new FailedPreconditionError(`cannot apply a layer into ${root}: ${errnoCode(err) === "ENOENT" ? "no such directory" : String(err)}`, { cause: err });
  }
  if (!st.isDirectory()) throw new FailedPreconditionError(`cannot apply a layer into ${root}: not a directory`);
  if ((await readdir(root)).length > 0) throw new FailedPreconditionError(`cannot apply a layer into ${root}: the directory is not empty`);

  const maxEntries = opts.maxEntries ?? 1_000_000;
  const digester = new Digester();
  const reader = new TarReader(tar, { onData: (c) => digester.update(c), maxHeaderBytes: MAX_HEADER_BYTES, ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }) });
  const extractor = new Extractor(root, opts.onSkip ?? (() => {}));
  let finished = false;
  try {
    for (let entries = 1; ; entries++) {
      const header = await reader.next();
      if (header === undefined) break;
      if (entries > maxEntries) throw new ResourceExhaustedError(`layer entry ${quote(header.name)}: the layer has more than ${maxEntries} entries`);
      await extractor.apply(header, reader);
    }
    await reader.drain();
    await extractor.finish();
    finished = true;
  } finally {
    if (!finished) destroy(tar);
  }
  return { diffID: digester.digest(), size: digester.size };
}

function destroy(src: unknown): void {
  if (typeof src === "object" && src !== null && "destroy" in src && typeof src.destroy === "function") (src as { destroy(): void }).destroy();
}

/** A name for messages: quoted, and cut short when huge. */
function quote(name: string): string {
  return JSON.stringify(name.length > 256 ? `${name.slice(0, 256)}...` : name);
}

function violation(entry: string, rule: string): InvalidArgumentError {
  return new InvalidArgumentError(`layer entry ${quote(entry)}: ${rule}`);
}

/**
 * The components of a layer path, normalised as tar does (leading `/` dropped, empty and `.`
 * components dropped, `..` taking one back); throws if it leaves the root.
 */
function components(raw: string, entry: string, what: string): string[] {
  if (raw.includes("\0")) throw violation(entry, `${what} contains a NUL byte`);
  if (Buffer.byteLength(raw) > MAX_PATH_BYTES) throw violation(entry, `${what} is longer than ${MAX_PATH_BYTES} bytes`);
  const comps: string[] = [];
  for (const c of raw.split("/")) {
    if (c === "" || c === ".") continue;
    if (c !== "..") comps.push(c);
    else if (comps.pop() === undefined) throw violation(entry, `${what} ${quote(raw)} escapes the layer root`);
  }
  if (comps.length > MAX_DEPTH) throw violation(entry, `${what} is deeper than ${MAX_DEPTH} components`);
  return comps;
}

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

function describe(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isSymbolicLink()) return "a symlink";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isFIFO()) return "a FIFO";
  return "not a regular file";
}

/** Runs `cmd`, giving it `input` on stdin. */
function run(cmd: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (err === null) return resolveRun();
      const missing = errnoCode(err) === "ENOENT";
      const pkg = cmd === "setfattr" ? "attr" : "coreutils";
      reject(new Error(missing ? `${cmd} not found: install the Debian package ${pkg}` : `${cmd}: ${String(stderr).trim() || err.message}`, { cause: err }));
    });
    if (input === undefined) return;
    child.stdin?.on("error", () => {}); // a child that exits early fails through the callback
    child.stdin?.end(input);
  });
}

/** `s` for a `setfattr --restore` file: every byte but plain printable ASCII as a `\ooo` escape. */
function restoreQuote(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    out += b > 0x20 && b < 0x7f && b !== 0x5c && b !== 0x3d && b !== 0x22 ? String.fromCharCode(b) : `\\${b.toString(8).padStart(3, "0")}`;
  }
  return out;
}

/** A value for `setfattr -v` or a `--restore` file: base64, or `""` (`0s` alone sets nothing). */
function xattrValue(value: Buffer): string {
  return value.length === 0 ? '""' : `0s${value.toString("base64")}`;
}

function writeAll(fd: number, chunk: Buffer): void {
  for (let off = 0; off < chunk.length;) off += writeSync(fd, chunk, off, chunk.length - off);
}

/** Runs `fn` on a descriptor of the directory `path`, opened without following a link. */
function withDir(path: string, fn: (fd: number) => void): void {
  const fd = openSync(path, O_DIR);
  try {
    fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether creating a path failed because something is already there. */
function exists(err: unknown): boolean {
  return errnoCode(err) === "EEXIST";
}

interface DirAttrs {
  mode: number;
  atime?: number;
  mtime?: number;
}

/** An xattr to set on `rel`, for the entry `entry`; `opaque` for the whiteout marker. */
interface XattrOp {
  entry: string;
  rel: string;
  name: string;
  value: Buffer;
  opaque: boolean;
}

const OPAQUE_VALUE = Buffer.from("y");

class Extractor {
  readonly #root: string;
  readonly #onSkip: (entry: string, reason: string) => void;
  readonly #privileged = process.geteuid?.() === 0;
  readonly #opaqueXattr: string;
  /**
   * Paths (relative to the root) checked to be real directories; "" is the root. It holds
   * every ancestor of each path it holds.
   */
  readonly #dirs = new Set<string>([""]);
  /** Directories whose mode and times are set at the end. */
  readonly #pending = new Map<string, DirAttrs>();
  /** Whiteout devices this layer made (they all share one inode). */
  readonly #whiteouts = new Set<string>();
  /** The whiteout new ones are hard-linked to, while it is still in #whiteouts. */
  #whiteoutInode: string | undefined;
  /** Xattrs not yet set: one setfattr sets them all, before anything on their way is replaced. */
  #xattrOps: XattrOp[] = [];

  constructor(root: string, onSkip: (entry: string, reason: string) => void) {
    this.#root = root;
    this.#onSkip = onSkip;
    this.#opaqueXattr = this.#privileged ? "trusted.overlay.opaque" : "user.overlay.opaque";
  }

  async apply(h: TarHeader, reader: TarReader): Promise<void> {
    const comps = components(h.name, h.name, "name");
    const base = comps.at(-1);
    if (base?.startsWith(WHITEOUT)) return this.#whiteout(h, comps, base);
    const rel = comps.join("/");
    if (rel === "" && h.type !== "dir") throw violation(h.name, "only a directory entry can name the layer root");
    const slash = rel.lastIndexOf("/");
    if (!this.#dirs.has(slash === -1 ? "" : rel.slice(0, slash))) await this.#parents(h.name, comps, true);
    switch (h.type) {
      case "file":
        return this.#file(h, rel, reader);
      case "dir":
        return this.#dir(h, rel);
      case "symlink":
        return this.#symlink(h, rel);
      case "hardlink":
        return this.#hardlink(h, rel);
      case "char":
      case "block":
      case "fifo":
        return this.#special(h, rel);
    }
  }

  /**
   * Sets the xattrs still pending, then directory modes and times, last, so that extracting
   * into them did not change them.
   */
  async finish(): Promise<void> {
    await this.#flushXattrs();
    for (const [rel, a] of this.#pending) {
      withDir(this.#abs(rel), (fd) => {
        fchmodSync(fd, a.mode);
        if (a.mtime !== undefined) futimesSync(fd, a.atime ?? a.mtime, a.mtime);
      });
    }
  }

  #abs(rel: string): string {
    return rel === "" ? this.#root : `${this.#root}/${rel}`;
  }

  /**
   * Checks (or, with `create`, makes) every parent of `comps` as a real directory. Without
   * `create`, returns false when one does not exist. A whiteout this layer made in the way
   * (`.wh.a` then `a/b`) becomes an opaque directory, as an explicit `a/` entry would.
   */
  async #parents(entry: string, comps: readonly string[], create: boolean): Promise<boolean> {
    let rel = "";
    for (let i = 0; i < comps.length - 1; i++) {
      rel = rel === "" ? comps[i] ?? "" : `${rel}/${comps[i] ?? ""}`;
      if (this.#dirs.has(rel)) continue;
      const st = lstatOrUndefined(this.#abs(rel));
      const whiteout = create && this.#whiteouts.has(rel);
      if (st === undefined || whiteout) {
        if (!create) return false;
        if (whiteout) await this.#replace(rel, true);
        mkdirSync(this.#abs(rel), { mode: 0o700 });
        this.#pending.set(rel, { mode: 0o755 });
        if (whiteout) this.#setOpaque(entry, rel);
      } else if (st.isSymbolicLink()) {
        throw violation(entry, `parent ${quote(rel)} is a symlink: links are never followed while extracting`);
      } else if (!st.isDirectory()) {
        throw violation(entry, `parent ${quote(rel)} is ${describe(st)}, not a directory`);
      }
      this.#dirs.add(rel);
    }
    return true;
  }

  /** Makes room for a new entry at `rel`: "merge" when both are directories, else removes what is there. */
  async #replace(rel: string, isDir: boolean): Promise<"merge" | "create"> {
    const st = lstatOrUndefined(this.#abs(rel));
    if (st === undefined) return "create";
    if (isDir && st.isDirectory()) return "merge";
    await this.#forget(rel);
    rmSync(this.#abs(rel), { recursive: true, force: true });
    return "create";
  }

  /**
   * Drops what is remembered about `rel` and everything under it, which is about to be
   * removed; xattrs pending there are set first (a hard link elsewhere may keep the inode).
   */
  async #forget(rel: string): Promise<void> {
    const under = `${rel}/`;
    const gone = (p: string): boolean => p === rel || p.startsWith(under);
    if (this.#xattrOps.some((op) => gone(op.rel))) await this.#flushXattrs();
    for (const p of this.#dirs) if (gone(p)) this.#dirs.delete(p);
    for (const p of this.#pending.keys()) if (gone(p)) this.#pending.delete(p);
    for (const p of this.#whiteouts) if (gone(p)) this.#whiteouts.delete(p);
  }

  /**
   * Runs `create`, which makes `rel` without following or overwriting anything; when
   * something is already there, replaces it first and runs `create` again.
   */
  async #create<T>(rel: string, create: () => T): Promise<T> {
    try {
      return create();
    } catch (err) {
      if (!exists(err)) throw err;
    }
    await this.#replace(rel, false);
    return create();
  }

  async #file(h: TarHeader, rel: string, reader: TarReader): Promise<void> {
    const path = this.#abs(rel);
    const fd = await this.#create(rel, () => openSync(path, O_FILE, 0o600));
    try {
      await reader.readBody((chunk) => {
        try {
          writeAll(fd, chunk);
        } catch (err) {
          throw noSpaceError(err, path); // a write on a descriptor names no file
        }
      });
      if (this.#privileged) fchownSync(fd, h.uid, h.gid);
      fchmodSync(fd, h.mode); // after chown, which clears setuid and setgid
      futimesSync(fd, h.atime ?? h.mtime, h.mtime);
    } finally {
      closeSync(fd);
    }
    this.#xattrs(h, rel);
  }

  async #dir(h: TarHeader, rel: string): Promise<void> {
    const path = this.#abs(rel);
    if (rel !== "") {
      const wasWhiteout = this.#whiteouts.has(rel);
      try {
        mkdirSync(path, { mode: 0o700 });
      } catch (err) {
        if (!exists(err)) throw err;
        if ((await this.#replace(rel, true)) === "create") mkdirSync(path, { mode: 0o700 });
      }
      if (wasWhiteout) this.#setOpaque(h.name, rel); // the whiteout still hides the lower directory's entries
    }
    this.#dirs.add(rel);
    if (this.#privileged) withDir(path, (fd) => fchownSync(fd, h.uid, h.gid));
    this.#xattrs(h, rel);
    const attrs: DirAttrs = { mode: h.mode, mtime: h.mtime };
    if (h.atime !== undefined) attrs.atime = h.atime;
    this.#pending.set(rel, attrs);
  }

  async #symlink(h: TarHeader, rel: string): Promise<void> {
    const target = h.linkname;
    if (target === "") throw violation(h.name, "symlink has an empty target");
    if (target.includes("\0")) throw violation(h.name, "symlink target contains a NUL byte");
    if (Buffer.byteLength(target) > MAX_PATH_BYTES) throw violation(h.name, `symlink target is longer than ${MAX_PATH_BYTES} bytes`);
    const path = this.#abs(rel);
    await this.#create(rel, () => symlinkSync(target, path));
    if (this.#privileged) lchownSync(path, h.uid, h.gid);
    lutimesSync(path, h.atime ?? h.mtime, h.mtime);
    this.#xattrs(h, rel);
  }

  async #hardlink(h: TarHeader, rel: string): Promise<void> {
    const tcomps = components(h.linkname, h.name, "hardlink target");
    const trel = tcomps.join("/");
    if (trel === "") throw violation(h.name, "hardlink to the layer root");
    if (trel === rel) throw violation(h.name, "hardlink to itself");
    if (trel.startsWith(`${rel}/`)) throw violation(h.name, `hardlink would replace a directory holding its own target ${quote(trel)}`);
    const st = (await this.#parents(h.name, tcomps, false)) ? lstatOrUndefined(this.#abs(trel)) : undefined;
    if (st === undefined) throw violation(h.name, `hardlink target ${quote(trel)} does not exist: it must be an earlier entry of the layer`);
    if (!st.isFile()) throw violation(h.name, `hardlink target ${quote(trel)} is ${describe(st)}: only regular files can be hard-linked`);
    await this.#create(rel, () => linkSync(this.#abs(trel), this.#abs(rel))); // link(2) does not follow; the target is a regular file
  }

  async #special(h: TarHeader, rel: string): Promise<void> {
    if (h.type !== "fifo" && !this.#privileged) {
      this.#onSkip(h.name, `${h.type} device ${h.devmajor}:${h.devminor} skipped: device nodes are made only when running as root`);
      return;
    }
    await this.#replace(rel, false);
    const path = this.#abs(rel);
    const kind = h.type === "fifo" ? ["p"] : [h.type === "char" ? "c" : "b", String(h.devmajor), String(h.devminor)];
    await run("mknod", ["-m", (h.mode & 0o777).toString(8), "--", path, ...kind]);
    if (this.#privileged) lchownSync(path, h.uid, h.gid);
    if (h.mode & 0o7000) {
      if (lstatSync(path).isSymbolicLink()) throw violation(h.name, "changed while extracting");
      chmodSync(path, h.mode);
    }
    lutimesSync(path, h.atime ?? h.mtime, h.mtime);
    this.#xattrs(h, rel);
  }

  async #whiteout(h: TarHeader, comps: readonly string[], base: string): Promise<void> {
    await this.#parents(h.name, comps, true);
    const dirRel = comps.slice(0, -1).join("/");
    if (base === OPAQUE) return this.#setOpaque(h.name, dirRel);
    if (base.startsWith(AUFS_META)) {
      this.#onSkip(h.name, "AUFS metadata skipped");
      return;
    }
    const target = base.slice(WHITEOUT.length);
    if (target === "" || target === "." || target === "..") {
      throw violation(h.name, `whiteout of ${quote(target)} names no entry inside its directory`);
    }
    const rel = dirRel === "" ? target : `${dirRel}/${target}`;
    const st = lstatOrUndefined(this.#abs(rel));
    if (st === undefined) {
      await this.#makeWhiteout(rel);
      this.#whiteouts.add(rel);
    } else if (st.isDirectory() && !this.#whiteouts.has(rel)) {
      this.#setOpaque(h.name, rel); // this layer's directory stays; the lower one is hidden
    }
    // Else this layer's own entry stays, and hides the lower one by itself.
  }

  /**
   * Makes the whiteout `rel` (nothing is there): a hard link to one this layer made, which
   * link(2) makes without following anything, or else a new 0:0 device (one child process).
   */
  async #makeWhiteout(rel: string): Promise<void> {
    const first = this.#whiteoutInode;
    if (first !== undefined && this.#whiteouts.has(first)) {
      try {
        linkSync(this.#abs(first), this.#abs(rel));
        return;
      } catch (err) {
        if (errnoCode(err) !== "EMLINK") throw err; // too many links: start another inode
      }
    }
    await run("mknod", ["-m", "0", "--", this.#abs(rel), "c", "0", "0"]);
    this.#whiteoutInode = rel;
  }

  #setOpaque(entry: string, rel: string): void {
    this.#xattrOps.push({ entry, rel, name: this.#opaqueXattr, value: OPAQUE_VALUE, opaque: true });
  }

  #xattrs(h: TarHeader, rel: string): void {
    for (const [key, value] of h.xattrs) {
      if (key === "" || key.includes("\0") || Buffer.byteLength(key) > 255) throw violation(h.name, `invalid xattr name ${quote(key)}`);
      if (/^(trusted|user)\.overlay\./.test(key)) {
        this.#onSkip(h.name, `xattr ${key} skipped: reserved for overlayfs`);
        continue;
      }
      this.#xattrOps.push({ entry: h.name, rel, name: key, value, opaque: false });
    }
  }

  /**
   * Sets the pending xattrs with one `setfattr -h --restore` (lsetxattr: the last component
   * is never followed, and every parent is a directory this layer checked and has not
   * replaced since). If that fails, they are set again one by one, to tell which failed.
   */
  async #flushXattrs(): Promise<void> {
    const ops = this.#xattrOps;
    if (ops.length === 0) return;
    this.#xattrOps = [];
    const script = ops.map((op) => `# file: ${restoreQuote(this.#abs(op.rel))}\n${restoreQuote(op.name)}=${xattrValue(op.value)}\n\n`).join("");
    try {
      await run("setfattr", ["-h", "--restore=-"], script);
      return;
    } catch {
      // below, one by one
    }
    for (const op of ops) {
      const set = run("setfattr", ["-h", "-n", op.name, "-v", xattrValue(op.value), "--", this.#abs(op.rel)]);
      if (op.opaque) {
        await set;
        continue;
      }
      try {
        await set;
      } catch (err) {
        if (this.#privileged) throw new InvalidArgumentError(`layer entry ${quote(op.entry)}: cannot set xattr ${op.name}: ${(err as Error).message}`, { cause: err });
        this.#onSkip(op.entry, `xattr ${op.name} skipped: ${(err as Error).message}`);
      }
    }
  }
}
