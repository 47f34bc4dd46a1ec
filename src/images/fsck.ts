/**
 * `podyard fsck`: checks the node's image state end to end and, when asked,
 * repairs it: removes blobs whose bytes no longer match their digest, snapshots whose
 * parent is gone, and abandoned ingests; keeps the image records whose manifest,
 * config, layers or snapshots are missing (their names stay), marking each for a pull
 * (NEEDS_PULL_LABEL) that fetches what is missing again.
 */
import { parseManifest, type Digest } from "../oci/index.js";
import { hashBlob, readBlob, type ContentStore, type ImageStore, type Snapshotter } from "../store/index.js";
import { NEEDS_PULL_LABEL } from "./image-labels.js";

export interface FsckProblem {
  kind: "blob" | "image" | "snapshot" | "ingest";
  subject: string;
  problem: string;
  repaired: boolean;
  /** what the repair did: "removed", or "marked for re-pull" for an image record */
  repair?: string;
}

export interface FsckReport {
  blobs: number;
  images: number;
  snapshots: number;
  problems: FsckProblem[];
}

export interface FsckDeps {
  content: ContentStore;
  images: ImageStore;
  snapshotter: Snapshotter;
}

export async function fsck(deps: FsckDeps, opts: { repair: boolean }): Promise<FsckReport> {
  const { content, images, snapshotter } = deps;
  const report: FsckReport = { blobs: 0, images: 0, snapshots: 0, problems: [] };
  const problem = (p: Omit<FsckProblem, "repaired" | "repair">, repaired: boolean, repair = "removed"): void => {
    report.problems.push({ ...p, repaired, ...(repaired ? { repair } : {}) });
  };

  // 1. Blobs: every byte against its digest.
  for await (const info of content.walk()) {
    report.blobs++;
    let got: string;
    try {
      got = (await hashBlob(content, info.digest)).digest;
    } catch (err) {
      got = `unreadable (${(err as Error).message})`;
    }
    if (got !== info.digest) {
      if (opts.repair) await content.delete(info.digest);
      problem({ kind: "blob", subject: info.digest, problem: `content hashes to ${got}` }, opts.repair);
    }
  }

  // 2. Snapshots: a committed snapshot's parent must exist.
  const snapshots = new Map<string, { parent?: string; kind: string }>();
  for (const s of await snapshotter.walk()) snapshots.set(s.name, s);
  report.snapshots = snapshots.size;
  const orphans = [...snapshots.entries()].filter(([, s]) => s.parent !== undefined && !snapshots.has(s.parent));
  for (const [name, s] of orphans) {
    // children of an orphan are orphans too once it goes; remove deepest first
    const chain = [name];
    for (let grew = true; grew;) {
      grew = false;
      for (const [n, c] of snapshots) if (c.parent !== undefined && chain.includes(c.parent) && !chain.includes(n)) {
        chain.push(n);
        grew = true;
      }
    }
    if (opts.repair) for (const n of chain.reverse()) await snapshotter.remove(n).catch(() => undefined);
    problem({ kind: "snapshot", subject: name, problem: `parent ${s.parent ?? ""} is missing` }, opts.repair);
    for (const n of chain) snapshots.delete(n);
  }

  // 3. Image records: everything they point at must be there.
  for (const r of images.list()) {
    report.images++;
    const missing: string[] = [];
    const has = async (d: Digest): Promise<boolean> => (await content.info(d)) !== undefined;
    if (!(await has(r.target.digest))) missing.push(`manifest ${r.target.digest}`);
    if (!(await has(r.manifestDigest))) missing.push(`platform manifest ${r.manifestDigest}`);
    else {
      try {
        const parsed = parseManifest(await readBlob(content, r.manifestDigest), undefined);
        if (parsed.kind === "manifest") {
          for (const d of [parsed.body.config, ...parsed.body.layers]) if (!(await has(d.digest))) missing.push(`blob ${d.digest}`);
          // the layers below the top are there: a snapshot whose parent is gone went with step 2
          if (r.chainID !== undefined && !snapshots.has(r.chainID)) missing.push(`snapshot ${r.chainID}`);
        } else missing.push(`platform manifest ${r.manifestDigest} is an index`);
      } catch (err) {
        missing.push(`readable manifest (${(err as Error).message})`);
      }
    }
    if (missing.length > 0) {
      // the name stays (`podyard images` lists it); the next pull fetches what is missing
      if (opts.repair && r.labels[NEEDS_PULL_LABEL] === undefined) {
        images.put({ ...r, labels: { ...r.labels, [NEEDS_PULL_LABEL]: "true" } });
      }
      problem({ kind: "image", subject: r.name, problem: `missing ${missing.join(", ")}` }, opts.repair, "marked for re-pull");
    }
  }

  // 4. Ingests left by interrupted pulls: kept for resuming, reported; repair drops them.
  for (const s of await content.listStatuses()) {
    if (opts.repair) await content.abort(s.ref).catch(() => undefined);
    problem({ kind: "ingest", subject: s.ref, problem: `unfinished download (${s.offset} bytes)` }, opts.repair);
  }
  // and, whatever their age, those too broken to list and what interrupted starts and aborts left
  if (opts.repair) await content.pruneIngests(0);
  return report;
}
