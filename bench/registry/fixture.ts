// The images the benchmark pushes: random, incompressible layers written once into temp files, a small OCI
// image config and an OCI image manifest. Each round gets its own image, so no server can deduplicate a blob
// it stored in an earlier round; within a round both servers receive the same bytes.
import { createHash, randomFillSync } from "node:crypto";
import { open, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";

/** A blob on disk, pushed from its file. */
export interface BlobFile {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly path: string;
}

export interface Image {
  readonly config: BlobFile;
  readonly layers: readonly BlobFile[];
  readonly manifest: Buffer;
  readonly manifestDigest: string;
  /** Bytes moved by a push or a pull: layers, config and manifest. */
  readonly totalBytes: number;
}

const CHUNK = 1 << 20;

/** Writes `size` random bytes to `path` and returns their sha256 digest. */
async function writeRandomFile(path: string, size: number): Promise<string> {
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK);
  const file = await open(path, "w");
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(CHUNK, size - written);
      randomFillSync(buf, 0, n);
      hash.update(buf.subarray(0, n));
      await file.write(buf, 0, n);
      written += n;
    }
  } finally {
    await file.close();
  }
  return `sha256:${hash.digest("hex")}`;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Generates one image with `layers` random layers of `layerBytes` each into `dir`. */
export async function generateImage(dir: string, opts: { layers: number; layerBytes: number }): Promise<Image> {
  const layers: BlobFile[] = [];
  for (let i = 0; i < opts.layers; i++) {
    const path = join(dir, `layer-${i}`);
    const digest = await writeRandomFile(path, opts.layerBytes);
    layers.push({ mediaType: OCI_LAYER, digest, size: opts.layerBytes, path });
  }
  const configJson = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/bin/sh"] },
      // The layers are uncompressed, so their diffIDs equal their digests.
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      history: layers.map((_, i) => ({ created_by: `podyard registry bench layer ${i}` })),
    }),
  );
  const configPath = join(dir, "config.json");
  await writeFile(configPath, configJson);
  const config: BlobFile = { mediaType: OCI_CONFIG, digest: sha256(configJson), size: configJson.length, path: configPath };
  const descriptor = (b: BlobFile): { mediaType: string; digest: string; size: number } => ({
    mediaType: b.mediaType,
    digest: b.digest,
    size: b.size,
  });
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: descriptor(config), layers: layers.map(descriptor) }),
  );
  const totalBytes = layers.reduce((sum, l) => sum + l.size, 0) + config.size + manifest.length;
  return { config, layers, manifest, manifestDigest: sha256(manifest), totalBytes };
}
