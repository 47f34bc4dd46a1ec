/**
 * The tutorial's test image (runtime-notes §9), built from Debian's dynamic busybox: the binary,
 * a symlink per applet, an `nc` shim that maps BSD `-lk` to busybox `-ll`, a no-op `apk`, the
 * shared libraries and loader `ldd` names, minimal /etc files and the usual empty directories.
 * The dynamic build matters: its `sh` searches $PATH, so `sh -c "nc -lk ..."` reaches the shim.
 */
import { execFile } from "node:child_process";
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { realpath, stat } from "node:fs/promises";
import { posix } from "node:path";
import { Readable } from "node:stream";
import { promisify } from "node:util";
import { FailedPreconditionError, InvalidArgumentError } from "../../errdefs/index.js";
import { layerPath, writeImageLayout, writeLayoutLayer, type LayerEntry, type LayoutLayer, type WrittenImage } from "../../oci/index.js";

const run = promisify(execFile);
const INSTALL_HINT = "the tutorial image needs Debian's dynamically linked busybox: run `apt-get install busybox`";

const NC_SHIM = `#!/bin/busybox sh
# Debian busybox nc lacks BSD "-k" (keep listening); "-ll" is the busybox equivalent
i=0; for a in "$@"; do
  if [ $i = 0 ]; then set --; i=1; fi
  case "$a" in -lk|-kl) a=-ll;; -k) a=-l;; esac
  set -- "$@" "$a"
done
exec /bin/busybox nc "$@"
`;
const APK_NOOP = `#!/bin/sh
# no-op apk: this test image has no package manager; the tutorial's "apk add" changes nothing
exit 0
`;
const ETC_FILES: Record<string, string> = {
  "etc/passwd": "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  "etc/group": "root:x:0:\nnogroup:x:65534:\n",
  "etc/hosts": "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
  "etc/nsswitch.conf": "hosts: files dns\n",
};
const EMPTY_DIRS: Record<string, number> = {
  tmp: 0o1777, proc: 0o555, sys: 0o555, dev: 0o755, mnt: 0o755, run: 0o755, "var/www": 0o755, root: 0o700,
};

/** A layer holding one file of `sizeBytes` pseudo-random bytes at `name`, generated while streaming. */
export interface RandomDataLayer {
  name: string;
  sizeBytes: number;
  /** Same seed, same bytes (and digests); without one the bytes differ on every build. */
  seed?: string | number;
}
/** A layer of arbitrary entries. */
export interface EntriesLayer {
  entries: LayerEntry[];
  createdBy?: string;
}
export type ExtraLayer = RandomDataLayer | EntriesLayer;

export interface BuildBusyboxImageOptions {
  /** The OCI layout directory to write (created if needed; other tags in it are kept). */
  dir: string;
  /** `org.opencontainers.image.ref.name`; default "latest". */
  tag?: string;
  /** Layers stacked on top of the busybox rootfs, in order. */
  extraLayers?: readonly ExtraLayer[];
  gzipLevel?: number;
  /** The busybox binary to copy; default /bin/busybox. */
  busyboxPath?: string;
}

export interface BuiltBusyboxImage extends WrittenImage {
  dir: string;
  tag: string;
  layers: LayoutLayer[];
}

async function checkedLdd(busybox: string): Promise<string[]> {
  try {
    await stat(busybox);
  } catch (err) {
    throw new FailedPreconditionError(`${busybox} not found: ${INSTALL_HINT}`, { cause: err });
  }
  let out: string;
  try {
    out = (await run("ldd", [busybox])).stdout;
  } catch (err) {
    throw new FailedPreconditionError(`${busybox} is not a dynamic executable (busybox-static?): ${INSTALL_HINT}`, { cause: err });
  }
  const paths = new Set<string>();
  for (const line of out.split("\n")) {
    if (line.includes("not found")) throw new FailedPreconditionError(`ldd ${busybox}: a library is missing (${line.trim()})`);
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1] !== undefined) paths.add(m[1]);
  }
  if (![...paths].some((p) => /\/ld-linux[^/]*$|\/ld64[^/]*$/.test(p))) {
    throw new FailedPreconditionError(`ldd ${busybox} names no dynamic loader (output: ${out.trim()}): ${INSTALL_HINT}`);
  }
  return [...paths];
}

async function hostFile(path: string, imagePath: string): Promise<LayerEntry> {
  const real = await realpath(path);
  const st = await stat(real);
  return { type: "file", path: imagePath, sourcePath: real, mode: st.mode & 0o7777 };
}

/** Adds a 0755 directory entry for every missing parent of every entry. */
function withParents(entries: Map<string, LayerEntry>): LayerEntry[] {
  for (const path of [...entries.keys()]) {
    for (let dir = posix.dirname(path); dir !== "."; dir = posix.dirname(dir)) {
      if (!entries.has(dir)) entries.set(dir, { type: "dir", path: dir, mode: 0o755 });
    }
  }
  return [...entries.values()];
}

/** The entries of the busybox rootfs layer, read from the host's dynamic busybox. */
export async function busyboxRootfsEntries(busyboxPath = "/bin/busybox"): Promise<LayerEntry[]> {
  const libs = await checkedLdd(busyboxPath);
  const applets = (await run(busyboxPath, ["--list-full"])).stdout.split("\n").filter((l) => l !== "");
  const entries = new Map<string, LayerEntry>();
  const add = (e: LayerEntry): void => void entries.set(layerPath(e.path), { ...e, path: layerPath(e.path) });
  add(await hostFile(busyboxPath, "bin/busybox"));
  for (const lib of libs) add(await hostFile(lib, lib));
  for (const applet of applets) {
    const path = layerPath(applet);
    if (path === "bin/busybox") continue;
    const target = posix.basename(path) === "nc" ? "/bin/nc" : "/bin/busybox";
    add({ type: "symlink", path, linkname: target });
  }
  add({ type: "file", path: "bin/nc", content: Buffer.from(NC_SHIM), mode: 0o755 });
  add({ type: "file", path: "sbin/apk", content: Buffer.from(APK_NOOP), mode: 0o755 });
  for (const [path, text] of Object.entries(ETC_FILES)) add({ type: "file", path, content: Buffer.from(text), mode: 0o644 });
  for (const [path, mode] of Object.entries(EMPTY_DIRS)) add({ type: "dir", path, mode });
  return withParents(entries);
}

function randomStream(sizeBytes: number, seed: string): Readable {
  const key = createHash("sha256").update(`podyard random layer\0${seed}`).digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
  const zeros = Buffer.alloc(64 * 1024);
  let left = sizeBytes;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, zeros.length);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

/** The entries of a random-data layer: the file (streamed from AES-CTR, never held in memory) and its parents. */
export function randomDataEntries(layer: RandomDataLayer): LayerEntry[] {
  if (!Number.isSafeInteger(layer.sizeBytes) || layer.sizeBytes < 0) {
    throw new InvalidArgumentError(`random data layer ${layer.name}: sizeBytes ${layer.sizeBytes} must be a non-negative integer`);
  }
  const seed = layer.seed === undefined ? randomBytes(16).toString("hex") : String(layer.seed);
  const path = layerPath(layer.name);
  const file: LayerEntry = { type: "file", path, mode: 0o644, source: { size: layer.sizeBytes, open: () => randomStream(layer.sizeBytes, seed) } };
  return withParents(new Map([[path, file]]));
}

function extraLayerInput(l: ExtraLayer): { entries: LayerEntry[]; createdBy: string } {
  if ("entries" in l) return { entries: l.entries, createdBy: l.createdBy ?? "podyard: extra layer" };
  return { entries: randomDataEntries(l), createdBy: `podyard: ${l.sizeBytes} random bytes at /${layerPath(l.name)}` };
}

/** Writes the tutorial's busybox image (plus `extraLayers`) as an OCI layout in `dir`. */
export async function buildBusyboxImage(opts: BuildBusyboxImageOptions): Promise<BuiltBusyboxImage> {
  const tag = opts.tag ?? "latest";
  const busyboxPath = opts.busyboxPath ?? "/bin/busybox";
  const layerOpts = opts.gzipLevel === undefined ? {} : { gzipLevel: opts.gzipLevel };
  const layers = [
    await writeLayoutLayer(opts.dir, await busyboxRootfsEntries(busyboxPath), {
      ...layerOpts, createdBy: `podyard: busybox rootfs from ${busyboxPath}`,
    }),
  ];
  for (const extra of opts.extraLayers ?? []) {
    const { entries, createdBy } = extraLayerInput(extra);
    layers.push(await writeLayoutLayer(opts.dir, entries, { ...layerOpts, createdBy }));
  }
  const written = await writeImageLayout(opts.dir, { layers, tag });
  return { ...written, dir: opts.dir, tag, layers };
}
