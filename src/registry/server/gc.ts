/**
 * Offline-safe garbage collection (mark and sweep, as distribution's `registry
 * garbage-collect`). Mark: every manifest revision of every repository, and what it
 * references, is live. Sweep: other blobs are deleted, but only those whose mtime is
 * older than the start of the run minus a grace period. Uploads, mounts and manifest
 * pushes refresh the mtime of the blobs they touch, so a blob pushed while the
 * collector runs, or just before its manifest arrives, is never taken.
 */
import type { Clock } from "../../clock/index.js";
import { parseManifest, referencedDescriptors, type Digest } from "../../oci/index.js";
import type { Registry } from "./registry.js";

export interface GcOptions {
  clock: Clock;
  /** blobs younger than this are spared even when nothing references them (default 1 h) */
  graceMs?: number;
  /** also delete manifests that no tag points at (and then what only they referenced) */
  deleteUntagged?: boolean;
  /** report only; delete nothing */
  dryRun?: boolean;
  /** idle upload sessions older than this are removed (default 168 h) */
  uploadTtlMs?: number;
  log?: (line: string) => void;
}

export interface GcReport {
  repositories: number;
  manifests: number;
  marked: number;
  blobsDeleted: Digest[];
  bytesFreed: number;
  manifestsDeleted: number;
  layerLinksDeleted: number;
  uploadsPurged: number;
}

export async function collectGarbage(registry: Registry, opts: GcOptions): Promise<GcReport> {
  const log = opts.log ?? (() => {});
  const start = opts.clock.now();
  const cutoff = start - (opts.graceMs ?? 3600_000);
  const report: GcReport = {
    repositories: 0, manifests: 0, marked: 0, blobsDeleted: [], bytesFreed: 0,
    manifestsDeleted: 0, layerLinksDeleted: 0, uploadsPurged: 0,
  };
  const live = new Set<Digest>();
  const repos = await registry.repos.repositories();
  report.repositories = repos.length;

  for (const name of repos) {
    const kept = opts.deleteUntagged ? await taggedClosure(registry, name) : new Set<Digest>();
    for await (const digest of registry.repos.revisions(name)) {
      const bytes = await registry.blobs.readAll(digest);
      if (opts.deleteUntagged && !kept.has(digest)) {
        log(`${name}: deleting untagged manifest ${digest}`);
        if (!opts.dryRun) await registry.deleteManifest(name, { digest });
        report.manifestsDeleted++;
        continue;
      }
      report.manifests++;
      live.add(digest);
      if (!bytes) continue;
      try {
        const parsed = parseManifest(bytes, undefined);
        for (const { desc } of referencedDescriptors(parsed)) live.add(desc.digest);
      } catch {
        log(`${name}: manifest ${digest} does not parse; keeping it, marking nothing under it`);
      }
    }
  }
  report.marked = live.size;

  for await (const blob of registry.blobs.list()) {
    if (live.has(blob.digest) || blob.mtimeMs >= cutoff) continue;
    log(`deleting blob ${blob.digest} (${blob.size} bytes)`);
    if (!opts.dryRun) await registry.blobs.delete(blob.digest);
    report.blobsDeleted.push(blob.digest);
    report.bytesFreed += blob.size;
  }

  if (!opts.dryRun) {
    for (const name of repos) {
      for await (const d of registry.repos.layerLinks(name)) {
        if (!(await registry.blobs.stat(d))) {
          await registry.repos.unlinkBlob(name, d);
          report.layerLinksDeleted++;
        }
      }
    }
    for (const s of await registry.uploads.stale(start - (opts.uploadTtlMs ?? 168 * 3600_000))) {
      await registry.uploads.purge(s.uuid);
      report.uploadsPurged++;
    }
  }
  return report;
}

/**
 * The manifests a tag reaches in `name`: the tagged ones and, through indexes (nested too),
 * every manifest they list. None of them is untagged garbage.
 */
async function taggedClosure(registry: Registry, name: string): Promise<Set<Digest>> {
  const kept = new Set<Digest>();
  const stack: Digest[] = [];
  for (const tag of await registry.repos.tags(name)) {
    const d = await registry.repos.getTag(name, tag);
    if (d) stack.push(d);
  }
  for (let d = stack.pop(); d !== undefined; d = stack.pop()) {
    if (kept.has(d)) continue;
    kept.add(d);
    const bytes = await registry.blobs.readAll(d);
    if (!bytes) continue;
    try {
      const parsed = parseManifest(bytes, undefined);
      if (parsed.kind === "index") stack.push(...parsed.body.manifests.map((m) => m.digest));
    } catch {
      continue;
    }
  }
  return kept;
}
