// podyard's download-only pull, run as a child process by the benchmark (so its RSS is its own): the steps of
// src/images/pull-image.ts up to, not including, the unpack. Resolve the reference, fetch the manifest (and
// this platform's manifest from an index) into the content store, then the config and the layers through
// the image service's BlobFetcher, N at a time (the config first), each verified by the content store's
// commit.
// Usage: node --import tsx bench/pull/download-only.ts REF CONTENT_DIR CONCURRENCY
// Prints one JSON line: {"ms": <in-process time>, "bytes": <bytes stored>, "blobs": <count>}.
import { BlobFetcher } from "../../src/images/blob-fetcher.js";
import { parseManifest, type Descriptor, type ImageIndex, type ImageManifest } from "../../src/oci/index.js";
import { parseDockerRef } from "../../src/reference/index.js";
import { hostPlatform, Resolver, selectManifest, type MultiEndpointClient } from "../../src/registry/client/index.js";
import { LocalContentStore, readBlob } from "../../src/store/index.js";

const MAX_INDEX_DEPTH = 4;

async function manifestOf(client: MultiEndpointClient, fetcher: BlobFetcher, root: Descriptor): Promise<{ desc: Descriptor; body: ImageManifest }> {
  let desc = root;
  for (let depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
    const m = await client.getManifest(desc.digest);
    if (m.digest !== desc.digest) throw new Error(`manifest ${desc.digest} came back as ${m.digest}`);
    await fetcher.put({ ...desc, size: m.bytes.length }, m.bytes);
    const parsed = parseManifest(m.bytes, desc.mediaType);
    if (parsed.kind === "manifest") return { desc: { ...desc, size: m.bytes.length }, body: parsed.body };
    desc = selectManifest(parsed.body as ImageIndex, hostPlatform(), { digest: desc.digest });
  }
  throw new Error(`image indexes nested deeper than ${MAX_INDEX_DEPTH}`);
}

async function main(argv: readonly string[]): Promise<void> {
  const [ref, contentDir, concurrencyArg] = argv;
  const concurrency = Number(concurrencyArg ?? "3");
  if (ref === undefined || contentDir === undefined || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error("usage: download-only.ts REF CONTENT_DIR CONCURRENCY");
  }
  const t0 = performance.now();
  const content = new LocalContentStore(contentDir);
  const fetcher = new BlobFetcher(content, { concurrency });
  const parsed = parseDockerRef(ref);
  const client = new Resolver().puller(parsed);
  const root = await client.resolve(parsed.digest ?? parsed.tag ?? "latest");
  const { desc, body } = await manifestOf(client, fetcher, root);
  // config and layers together, as the pull fetches them
  const layers = Promise.all(body.layers.map((l) => fetcher.fetch(client, l)));
  layers.catch(() => undefined);
  await fetcher.fetch(client, body.config);
  // parsed as the pull does, so a config it would refuse fails here too
  const config = JSON.parse((await readBlob(content, body.config.digest)).toString("utf8")) as { rootfs?: { diff_ids?: unknown } };
  if (!Array.isArray(config.rootfs?.diff_ids)) throw new Error(`config ${body.config.digest} has no rootfs.diff_ids`);
  await layers;
  const ms = performance.now() - t0;
  const blobs = [desc, body.config, ...body.layers];
  const bytes = blobs.reduce((n, d) => n + d.size, 0);
  process.stdout.write(`${JSON.stringify({ ms, bytes, blobs: blobs.length })}\n`);
}

await main(process.argv.slice(2));
