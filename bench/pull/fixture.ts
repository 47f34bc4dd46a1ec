// The image under test and the registry serving it. The image is the tutorial's busybox layer plus data
// layers, gzip -1, written as an OCI layout by buildBusyboxImage; by default each data layer mirrors
// runtime-notes §10.4's "big" image (20 MiB random + 20 MiB `seq` text → about 27 MB compressed), so the
// figures compare with the anchors there. The registry is podyard's own, served in this process on
// 127.0.0.1, and the image is pushed into it with skopeo.
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { buildBusyboxImage, randomDataEntries, type BuiltBusyboxImage, type ExtraLayer } from "../../src/cli/tutorial/busybox-rootfs.js";
import type { LayerEntry } from "../../src/oci/index.js";
import { RegistryServer } from "../../src/registry/server/index.js";
import { toolEnv } from "../../test/helpers/containers-env.js";
import { failure, measure, ok } from "./measure.js";
import type { DataKind } from "./options.js";

const MB = 1_000_000;
/** `head -c 20M` sizes, as runtime-notes §10.4 built its image. */
const MiB = 1 << 20;
export const REPOSITORY = "bench/big";
export const TAG = "v1";

export interface BenchImage {
  readonly built: BuiltBusyboxImage;
  /** Layers, config and manifest. */
  readonly compressedBytes: number;
  /** Uncompressed tar bytes of the layers. */
  readonly uncompressedBytes: number;
  readonly buildMs: number;
  readonly description: string;
}

/** `seq 1 N` output cut at exactly `size` bytes, generated while streaming. */
function seqText(size: number): Readable {
  let n = 1;
  let left = size;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const lines: string[] = [];
      for (let i = 0; i < 8192; i++) lines.push(String(n++));
      const chunk = Buffer.from(`${lines.join("\n")}\n`);
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      this.push(part);
    },
  });
}

/** A gzip member's ISIZE trailer: the uncompressed size mod 2^32 (layers here are far smaller). */
async function gunzippedSize(path: string): Promise<number> {
  const f = await open(path, "r");
  try {
    const { size } = await f.stat();
    const buf = Buffer.alloc(4);
    await f.read(buf, 0, 4, size - 4);
    return buf.readUInt32LE(0);
  } finally {
    await f.close();
  }
}

function blobPath(layout: string, digest: string): string {
  const [alg = "", hex = ""] = digest.split(":");
  return join(layout, "blobs", alg, hex);
}

function dataLayer(i: number, data: DataKind): ExtraLayer {
  const dir = `data/layer-${i}`;
  if (data === "random") return { name: `${dir}/random`, sizeBytes: 26 * MiB, seed: `podyard-bench-pull-${i}` };
  const text: LayerEntry = { type: "file", path: `${dir}/seq.txt`, mode: 0o644, source: { size: 20 * MiB, open: () => seqText(20 * MiB) } };
  const random = randomDataEntries({ name: `${dir}/random`, sizeBytes: 20 * MiB, seed: `podyard-bench-pull-${i}` });
  return { entries: [...random, text], createdBy: `podyard bench: 20 MiB random + 20 MiB seq text at /${dir}` };
}

export async function buildImage(dir: string, opts: { layers: number; data: DataKind }): Promise<BenchImage> {
  const t0 = performance.now();
  const built = await buildBusyboxImage({
    dir,
    tag: TAG,
    gzipLevel: 1,
    extraLayers: Array.from({ length: opts.layers }, (_, i) => dataLayer(i + 1, opts.data)),
  });
  const buildMs = performance.now() - t0;
  const layers = built.manifest.layers;
  const compressedBytes = layers.reduce((n, l) => n + l.size, 0) + built.manifest.config.size + built.manifestDescriptor.size;
  let uncompressedBytes = 0;
  for (const l of layers) uncompressedBytes += await gunzippedSize(blobPath(dir, l.digest));
  const each = opts.data === "random" ? "26 MiB random" : "20 MiB random + 20 MiB seq text";
  const description = `busybox + ${opts.layers} × (${each}), gzip -1: ${layers.length} layers, ${(compressedBytes / MB).toFixed(1)} MB compressed, ${(uncompressedBytes / MB).toFixed(1)} MB as tar`;
  return { built, compressedBytes, uncompressedBytes, buildMs, description };
}

export interface ServedImage {
  readonly server: RegistryServer;
  /** host:port */
  readonly host: string;
  /** host:port/bench/big:v1 */
  readonly ref: string;
  readonly pushMs: number;
  /** What the registry logged (errors), for the report. */
  readonly log: readonly string[];
}

/** Starts podyard's registry on 127.0.0.1 with its storage under `dir` and pushes `image` into it with skopeo. */
export async function serveImage(dir: string, image: BenchImage, opts: { timeoutMs: number }): Promise<ServedImage> {
  const log: string[] = [];
  const server = new RegistryServer({ root: join(dir, "storage"), log: (line) => log.push(line) });
  const url = await server.listen(0, "127.0.0.1");
  const host = new URL(url).host;
  const ref = `${host}/${REPOSITORY}:${TAG}`;
  try {
    const envDir = join(dir, "skopeo-push");
    await mkdir(envDir);
    const tools = await toolEnv(envDir);
    const r = await measure(
      "skopeo",
      ["--insecure-policy", "copy", "--preserve-digests", "--dest-tls-verify=false", `oci:${image.built.dir}:${TAG}`, `docker://${ref}`],
      { env: tools.env, cwd: envDir, scratch: envDir, timeoutMs: opts.timeoutMs },
    );
    if (!ok(r)) throw new Error(`push with skopeo failed: ${failure(r)}`);
    return { server, host, ref, pushMs: r.wallMs, log };
  } catch (err) {
    await server.close();
    throw err;
  }
}
