/** Starts a real registry server on 127.0.0.1 with a temporary storage root, for tests. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryServer, type RegistryServerOptions } from "../../src/registry/server/index.js";
import { digestOf, MediaType, type Digest } from "../../src/oci/index.js";

export interface TestRegistry {
  server: RegistryServer;
  url: string;
  root: string;
  close(): Promise<void>;
}

export async function startRegistry(opts: Partial<RegistryServerOptions> = {}): Promise<TestRegistry> {
  const root = opts.root ?? (await mkdtemp(join(tmpdir(), "podyard-registry-")));
  const server = new RegistryServer({ log: () => {}, ...opts, root });
  const url = await server.listen(0, "127.0.0.1");
  return {
    server,
    url,
    root,
    close: async () => {
      await server.close();
      if (!opts.root) await rm(root, { recursive: true, force: true });
    },
  };
}

/** Pushes a blob in one POST ?digest= and returns its digest. */
export async function pushBlob(url: string, name: string, data: Buffer | string): Promise<Digest> {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  const digest = digestOf(bytes);
  const res = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    headers: { "Content-Type": "application/octet-stream" },
    body: new Uint8Array(bytes),
  });
  if (res.status !== 201) throw new Error(`push blob ${digest}: ${res.status} ${await res.text()}`);
  return digest;
}

export interface PushedImage {
  manifest: Buffer;
  digest: Digest;
  config: Digest;
  layers: Digest[];
}

/** Pushes a small OCI image (config + layers + manifest) under `tag`. */
export async function pushImage(url: string, name: string, tag: string, layers: (Buffer | string)[] = ["layer-one"]): Promise<PushedImage> {
  const configBytes = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  const config = await pushBlob(url, name, configBytes);
  const layerDigests: Digest[] = [];
  const descs = [];
  for (const l of layers) {
    const b = typeof l === "string" ? Buffer.from(l) : l;
    const d = await pushBlob(url, name, b);
    layerDigests.push(d);
    descs.push({ mediaType: MediaType.ociLayerGzip, digest: d, size: b.length });
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: config, size: configBytes.length },
    layers: descs,
  }));
  const res = await fetch(`${url}/v2/${name}/manifests/${tag}`, {
    method: "PUT",
    headers: { "Content-Type": MediaType.ociManifest },
    body: new Uint8Array(manifest),
  });
  if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
  return { manifest, digest: digestOf(manifest), config, layers: layerDigests };
}

/** The first error code of an OCI error body. */
export async function errorCode(res: Response): Promise<string | undefined> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}
