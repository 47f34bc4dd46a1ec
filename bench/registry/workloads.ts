// The three workloads, run the same way against either server through the distribution HTTP API.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { performance } from "node:perf_hooks";
import { OCI_MANIFEST, sha256, type BlobFile, type Image } from "./fixture.js";
import { location, unexpected, type RegistryClient } from "./http.js";

export interface Throughput {
  readonly bytes: number;
  readonly seconds: number;
  /** MB (10^6 bytes) per second. */
  readonly mbPerSecond: number;
}

export interface ManifestGets {
  readonly ok: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Failed requests by status code or error message. */
  readonly errors: ReadonlyMap<string, number>;
}

function throughput(bytes: number, startMs: number): Throughput {
  const seconds = (performance.now() - startMs) / 1000;
  return { bytes, seconds, mbPerSecond: bytes / 1e6 / seconds };
}

/**
 * Pushes one blob the way docker and skopeo do: POST an upload session, PATCH the whole file as one streamed
 * request (no Content-Range), then PUT ?digest= with an empty body to commit it.
 */
async function pushBlob(client: RegistryClient, repo: string, blob: BlobFile): Promise<void> {
  const started = await client.request("POST", `/v2/${repo}/blobs/uploads/`, { headers: { "content-length": 0 } });
  if (started.status !== 202) throw unexpected(`POST upload for ${blob.digest}`, started);
  const patched = await client.request("PATCH", location("POST upload", started), {
    headers: { "content-type": "application/octet-stream", "content-length": blob.size },
    body: () => createReadStream(blob.path, { highWaterMark: 1 << 20 }),
  });
  if (patched.status !== 202) throw unexpected(`PATCH ${blob.digest}`, patched);
  const commitUrl = client.url(location("PATCH upload", patched));
  commitUrl.searchParams.set("digest", blob.digest);
  const committed = await client.request("PUT", commitUrl, { headers: { "content-length": 0 } });
  if (committed.status !== 201) throw unexpected(`PUT ?digest=${blob.digest}`, committed);
}

/** Workload 1: the layers and the config pushed concurrently, then the manifest under `tag`. */
export async function push(client: RegistryClient, image: Image, opts: { repo: string; tag: string }): Promise<Throughput> {
  const t0 = performance.now();
  await Promise.all([image.config, ...image.layers].map((blob) => pushBlob(client, opts.repo, blob)));
  const res = await client.request("PUT", `/v2/${opts.repo}/manifests/${opts.tag}`, {
    headers: { "content-type": OCI_MANIFEST, "content-length": image.manifest.length },
    body: image.manifest,
  });
  if (res.status !== 201) throw unexpected(`PUT manifest ${opts.repo}:${opts.tag}`, res);
  return throughput(image.totalBytes, t0);
}

interface Descriptor {
  readonly digest: string;
  readonly size: number;
}

function parseManifest(body: Buffer): { config: Descriptor; layers: Descriptor[] } {
  const m = JSON.parse(body.toString("utf8")) as { config?: Descriptor; layers?: Descriptor[] };
  if (m.config === undefined || !Array.isArray(m.layers)) throw new Error("Pulled manifest has no config or layers");
  return { config: m.config, layers: m.layers };
}

/** GETs a blob, streaming it through sha256 and discarding the bytes; returns its size. */
async function pullBlob(client: RegistryClient, repo: string, desc: Descriptor): Promise<number> {
  const res = await client.stream("GET", `/v2/${repo}/blobs/${desc.digest}`);
  if (res.statusCode !== 200) {
    res.resume();
    throw unexpected(`GET blob ${desc.digest}`, { status: res.statusCode ?? 0 });
  }
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  const got = `sha256:${hash.digest("hex")}`;
  if (size !== desc.size || got !== desc.digest) {
    throw new Error(`GET blob ${desc.digest}: got ${size} bytes with digest ${got}, want ${desc.size} bytes`);
  }
  return size;
}

/** Workload 2: GET the manifest by tag, then its config and layers concurrently, each verified. */
export async function pull(client: RegistryClient, image: Image, opts: { repo: string; tag: string }): Promise<Throughput> {
  const t0 = performance.now();
  const res = await client.request("GET", `/v2/${opts.repo}/manifests/${opts.tag}`, { headers: { accept: OCI_MANIFEST } });
  if (res.status !== 200) throw unexpected(`GET manifest ${opts.repo}:${opts.tag}`, res);
  if (sha256(res.body) !== image.manifestDigest) throw new Error(`GET manifest ${opts.repo}:${opts.tag}: digest mismatch`);
  const { config, layers } = parseManifest(res.body);
  const sizes = await Promise.all([config, ...layers].map((d) => pullBlob(client, opts.repo, d)));
  return throughput(res.body.length + sizes.reduce((a, b) => a + b, 0), t0);
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/**
 * Workload 3: `concurrency` workers GET the manifest by tag (Accept: OCI manifest) back to back for
 * `seconds`, after an untimed warm-up. A non-200 status or a body other than the pushed manifest is an error.
 */
export async function manifestGets(
  client: RegistryClient,
  image: Image,
  opts: { repo: string; tag: string; concurrency: number; seconds: number; warmupSeconds: number },
): Promise<ManifestGets> {
  const path = `/v2/${opts.repo}/manifests/${opts.tag}`;
  const headers = { accept: OCI_MANIFEST };
  const errors = new Map<string, number>();
  const latencies: number[] = [];
  let ok = 0;

  const run = async (untilMs: number, record: boolean): Promise<void> => {
    while (performance.now() < untilMs) {
      const t = performance.now();
      let failure: string | undefined;
      try {
        const res = await client.request("GET", path, { headers });
        if (res.status !== 200) failure = `status ${res.status}`;
        else if (res.body.length !== image.manifest.length) failure = `body of ${res.body.length} bytes, want ${image.manifest.length}`;
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
      if (!record) continue;
      if (failure === undefined) {
        ok++;
        latencies.push(performance.now() - t);
      } else {
        errors.set(failure, (errors.get(failure) ?? 0) + 1);
      }
    }
  };
  const workers = (untilMs: number, record: boolean): Promise<void[]> =>
    Promise.all(Array.from({ length: opts.concurrency }, () => run(untilMs, record)));

  await workers(performance.now() + opts.warmupSeconds * 1000, false);
  const t0 = performance.now();
  await workers(t0 + opts.seconds * 1000, true);
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { ok, seconds, perSecond: ok / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), errors };
}
