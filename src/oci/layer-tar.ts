/**
 * Deterministic layer tarballs: entries sorted by name, mtime 0, numeric uid/gid, then gzip with
 * no file name or time in its header, so the same entries always give the same digests
 * (`tar --sort=name --mtime=@0 --numeric-owner | gzip -n`). The layer streams to disk; the
 * compressed digest and the diffID (sha256 of the uncompressed tar) are computed in one pass.
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { posix } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { randomBytes } from "node:crypto";
import { createGzip } from "node:zlib";
import type { Pack } from "tar-stream";
import { tarStream } from "./tar-stream.js";
import { InvalidArgumentError } from "../errdefs/index.js";
import { Digester, type Digest } from "./digest.js";
import { MediaType } from "./media-types.js";

interface EntryBase {
  /** Path inside the layer; a leading `/` or `./` is dropped. */
  path: string;
  /** Permission bits (e.g. 0o755, 0o1777); defaults 0o644 files, 0o755 dirs, 0o777 symlinks. */
  mode?: number;
  uid?: number;
  gid?: number;
}

/** File bytes streamed from somewhere other than a buffer or a file: exactly `size` bytes. */
export interface FileStreamSource {
  size: number;
  open(): Readable;
}

export type LayerFileEntry = EntryBase & { type: "file" } & (
  | { content: Uint8Array }
  | { sourcePath: string }
  | { source: FileStreamSource }
);
export type LayerDirEntry = EntryBase & { type: "dir" };
/** `linkname` is stored as given (absolute targets resolve inside the container's rootfs). */
export type LayerSymlinkEntry = EntryBase & { type: "symlink"; linkname: string };
/** `linkname` names another file entry of the same layer. */
export type LayerHardlinkEntry = EntryBase & { type: "hardlink"; linkname: string };
export type LayerEntry = LayerFileEntry | LayerDirEntry | LayerSymlinkEntry | LayerHardlinkEntry;

export interface WriteLayerOptions {
  /** zlib level 0–9; default 6 (gzip's default). */
  gzipLevel?: number;
}

export interface WrittenLayer {
  mediaType: typeof MediaType.ociLayerGzip;
  /** Digest and size of the compressed blob: the layer descriptor's. */
  digest: Digest;
  size: number;
  /** sha256 of the uncompressed tar: the config's `rootfs.diff_ids` entry. */
  diffID: Digest;
  uncompressedSize: number;
}

const DEFAULT_MODE = { file: 0o644, dir: 0o755, symlink: 0o777, hardlink: 0o644 } as const;

/** Normalises a layer path to `a/b/c`; rejects empty paths and `..`. */
export function layerPath(p: string): string {
  if (p.split("/").includes("..")) throw new InvalidArgumentError(`invalid layer path ${JSON.stringify(p)}: ".." is not allowed`);
  const norm = posix.normalize(`/${p}`).replace(/^\/+/, "").replace(/\/+$/, "");
  if (norm === "") throw new InvalidArgumentError(`invalid layer path ${JSON.stringify(p)}`);
  return norm;
}

function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Sorts the entries by path and makes each hardlink come after the file it names (if the link's
 * name sorts first, the two names swap roles: both are the same inode). Throws on duplicates.
 */
export function sortLayerEntries(entries: readonly LayerEntry[]): LayerEntry[] {
  const byPath = new Map<string, LayerEntry>();
  for (const e of entries) {
    const path = layerPath(e.path);
    if (byPath.has(path)) throw new InvalidArgumentError(`duplicate layer entry ${JSON.stringify(path)}`);
    byPath.set(path, e.type === "hardlink" ? { ...e, path, linkname: layerPath(e.linkname) } : { ...e, path });
  }
  for (const [path, e] of byPath) {
    if (e.type !== "hardlink") continue;
    const target = byPath.get(e.linkname);
    if (target?.type !== "file") {
      throw new InvalidArgumentError(`hardlink ${JSON.stringify(path)}: target ${JSON.stringify(e.linkname)} is not a file entry of the layer`);
    }
    if (compareNames(path, e.linkname) < 0) {
      byPath.set(path, { ...target, path });
      byPath.set(e.linkname, { ...e, path: e.linkname, linkname: path });
    }
  }
  return [...byPath.values()].sort((a, b) => compareNames(a.path, b.path));
}

type HeaderArgument = Parameters<Pack["entry"]>[0];

function header(e: LayerEntry, size: number): HeaderArgument {
  const type = e.type === "dir" ? "directory" : e.type === "hardlink" ? "link" : e.type;
  const h: HeaderArgument = {
    name: e.type === "dir" ? `${e.path}/` : e.path, type, size, mode: e.mode ?? DEFAULT_MODE[e.type],
    uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: new Date(0), uname: "", gname: "",
  };
  if (e.type === "symlink" || e.type === "hardlink") h.linkname = e.linkname;
  return h;
}

async function fileSource(e: EntryBase & ({ sourcePath: string } | { source: FileStreamSource })): Promise<FileStreamSource> {
  if ("source" in e) return e.source;
  const path = e.sourcePath;
  const st = await stat(path);
  return { size: st.size, open: () => createReadStream(path) };
}

function entryDone(p: Pack, h: HeaderArgument, body?: Uint8Array): { done: Promise<void>; sink: ReturnType<Pack["entry"]> } {
  let settle: (err?: Error | null) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    settle = (err) => (err ? reject(err) : resolve());
  });
  done.catch(() => {}); // awaited by the caller unless another error ends the layer first
  const sink = body === undefined ? p.entry(h, (err) => settle(err)) : p.entry(h, Buffer.from(body), (err) => settle(err));
  return { done, sink };
}

function sizeMismatch(path: string, got: number | string, want: number): InvalidArgumentError {
  return new InvalidArgumentError(`layer entry ${JSON.stringify(path)}: source gave ${got} bytes, expected ${want}`);
}

async function packEntries(p: Pack, entries: readonly LayerEntry[]): Promise<void> {
  const closed = new AbortController();
  p.once("close", () => closed.abort());
  for (const e of entries) {
    if (e.type !== "file") {
      await entryDone(p, header(e, 0)).done;
      continue;
    }
    if ("content" in e) {
      await entryDone(p, header(e, e.content.byteLength), e.content).done;
      continue;
    }
    const src = await fileSource(e);
    const { done, sink } = entryDone(p, header(e, src.size));
    sink.on("error", () => {}); // reported through the entry callback (`done`)
    const input = src.open();
    try {
      let written = 0;
      for await (const chunk of input as AsyncIterable<Buffer>) {
        written += chunk.byteLength;
        if (written > src.size) throw sizeMismatch(e.path, `more than ${src.size}`, src.size);
        if (!sink.write(chunk)) await once(sink, "drain", { signal: closed.signal });
      }
      if (written !== src.size) throw sizeMismatch(e.path, written, src.size);
    } catch (err) {
      input.destroy();
      p.destroy(err as Error);
      throw err;
    }
    sink.end(null);
    await done;
  }
  p.finalize();
}

/** The uncompressed, deterministic tar stream of `entries` (sorted as `sortLayerEntries` does). */
export function packLayer(entries: readonly LayerEntry[]): AsyncIterable<Buffer> {
  const sorted = sortLayerEntries(entries);
  const p = tarStream().pack();
  const feeding = packEntries(p, sorted);
  feeding.catch((err: unknown) => p.destroy(err instanceof Error ? err : new Error(String(err))));
  return (async function* () {
    for await (const chunk of p as AsyncIterable<Buffer>) yield chunk;
    await feeding;
  })();
}

function tap(d: Digester): (src: AsyncIterable<Buffer>) => AsyncGenerator<Buffer> {
  return async function* (src) {
    for await (const chunk of src) {
      d.update(chunk);
      yield chunk;
    }
  };
}

/**
 * Writes the gzipped layer of `entries` to `dest` (atomically: a temporary file in the same
 * directory, fsynced, then renamed) and returns its digests. Nothing is held in memory beyond
 * stream buffers, so layers of any size can be built.
 */
export async function writeLayer(entries: readonly LayerEntry[], dest: string, opts: WriteLayerOptions = {}): Promise<WrittenLayer> {
  const level = opts.gzipLevel ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new InvalidArgumentError(`gzipLevel ${level}: must be an integer 0-9`);
  const tar = new Digester();
  const gz = new Digester();
  const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await pipeline(packLayer(entries), tap(tar), createGzip({ level }), tap(gz), createWriteStream(tmp, { flush: true }));
    await rename(tmp, dest);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return { mediaType: MediaType.ociLayerGzip, digest: gz.digest(), size: gz.size, diffID: tar.digest(), uncompressedSize: tar.size };
}
