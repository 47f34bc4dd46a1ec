// podyard's download-only pull, run as a child process by the benchmark (so its RSS is its own): the steps of
// src/images/pull-image.ts up to, not including, the unpack, through its own functions: resolve the
// reference, fetch the manifest (and this platform's manifest from an index) and the config, stored in the
// content store in the background, and the layers through the image service's BlobFetcher, N at a time,
// each verified by the content store's commit.
// Usage: node --import tsx bench/pull/download-only.ts REF CONTENT_DIR CONCURRENCY
// Prints one JSON line: {"ms": <in-process time>, "bytes": <bytes stored>, "blobs": <count>}.
import { BlobFetcher } from "../../src/images/blob-fetcher.js";
import { fetchConfig, parseConfig, resolveManifest } from "../../src/images/pull-image.js";
import { parseDockerRef } from "../../src/reference/index.js";
import { hostPlatform } from "../../src/oci/index.js";
import { Resolver } from "../../src/registry/client/index.js";
import { LocalContentStore, readBlob } from "../../src/store/index.js";

async function main(argv: readonly string[]): Promise<void> {
  const [ref, contentDir, concurrencyArg] = argv;
  const concurrency = Number(concurrencyArg ?? "3");
  if (ref === undefined || contentDir === undefined || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error("usage: download-only.ts REF CONTENT_DIR CONCURRENCY");
  }
  const t0 = performance.now();
  const content = new LocalContentStore(contentDir);
  const fetcher = new BlobFetcher(content, { concurrency });
  const deps = { fetcher, readBlob: (d: Parameters<typeof readBlob>[1]) => readBlob(content, d) };
  const parsed = parseDockerRef(ref);
  const client = new Resolver().puller(parsed);
  // the pull's own steps: manifests and config written in the background, layers beside the config
  const stores: Promise<void>[] = [];
  const { manifest, body } = await resolveManifest(deps, client, parsed, hostPlatform(), stores);
  const layers = Promise.all(body.layers.map((l) => fetcher.fetch(client, l)));
  layers.catch(() => undefined);
  parseConfig(await fetchConfig(deps, client, body.config, stores), `config ${body.config.digest}`);
  await layers;
  await Promise.all(stores);
  const ms = performance.now() - t0;
  const blobs = [manifest, body.config, ...body.layers];
  const bytes = blobs.reduce((n, d) => n + d.size, 0);
  process.stdout.write(`${JSON.stringify({ ms, bytes, blobs: blobs.length })}\n`);
}

await main(process.argv.slice(2));
