/**
 * A content store on the local filesystem, laid out as containerd's `content/local` store:
 *
 *   <root>/blobs/<alg>/<hex>              committed blobs, read-only (0444)
 *   <root>/labels/<alg>/<hex>.json        a blob's labels and their update time
 *   <root>/ingest/<sha256(ref)>/          one ingest: ref, data, startedat, updatedat, total
 *
 * An ingest directory is built as `<h>.new` and renamed into place, and removed by
 * renaming it to `<h>.tmp` first, so a crash leaves either a whole ingest or a leftover
 * that `pruneIngests` deletes. A blob appears under `blobs/` only through a hard link of
 * a fully written, fsynced and verified ingest (`LocalWriter.commit`).
 *
 * Locks on refs are held in this process only (as in containerd): two processes must not
 * write the same root at once.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { pathExists, readFileIfExists } from "../../fsutil/index.js";
import { mkdir, open, readdir, rm, stat, unlink } from "node:fs/promises";
import { Readable } from "node:stream";
import { dirname, join, resolve } from "node:path";
import { realClock, type Clock } from "../../clock/index.js";
import { AlreadyExistsError, errnoCode, FailedPreconditionError, NotFoundError, UnavailableError } from "../../errdefs/index.js";
import { Digester, digestAlgorithm, digestEncoded, isDigest, isDigestAlgorithm, type Digest, type DigestAlgorithm } from "../../oci/index.js";
import { noSpaceError, writeFileAtomic } from "../../fsutil/index.js";
import { checkDigest, checkRange, checkRef, checkSize, checkWriterOptions } from "./check-args.js";
import type { BlobWriter, ContentStore, Info, IngestStatus, ReadRange, WriterOptions } from "./content.js";
import { hashFile, ingestDirName, isIngestDirName, readIngestStatus, removeIngestDir } from "./ingest-dir.js";
import { LocalWriter, type WriterHost } from "./local-writer.js";
import { validateLabels } from "./validate-labels.js";

/** Ingest directories held by a writer (or by an abort or prune removing them), process-wide. */
const LOCKS = new Set<string>();
/** Pending label updates and deletes, per label file, process-wide. */
const LABEL_QUEUES = new Map<string, Promise<unknown>>();

export interface LocalContentStoreOptions {
  /** The source of commit, label and ingest times; the real clock by default. */
  clock?: Clock;
}

interface LabelFile {
  labels: Record<string, string>;
  updatedAt: number;
}

interface IngestState {
  digester: Digester;
  total: number | undefined;
  updatedAt: number;
}

const exists = pathExists;

export class LocalContentStore implements ContentStore {
  readonly root: string;
  #clock: Clock;
  #host: WriterHost;

  constructor(root: string, opts: LocalContentStoreOptions = {}) {
    this.root = resolve(root);
    this.#clock = opts.clock ?? realClock;
    this.#host = {
      clock: this.#clock,
      blobPath: (d) => this.path(d),
      commitLabels: async (d, labels, existed) => {
        if (!existed) await this.#resetLabels(d, labels);
        else if (labels !== undefined) await this.#updateLabels(d, (current) => ({ ...current, ...labels }));
      },
      abort: (ref) => this.abort(ref),
    };
  }

  path(d: Digest): string {
    const dg = checkDigest(d, "blob");
    return join(this.root, "blobs", digestAlgorithm(dg), digestEncoded(dg));
  }

  async info(d: Digest): Promise<Info | undefined> {
    const p = this.path(d);
    let size: number;
    let mtimeMs: number;
    try {
      ({ size, mtimeMs } = await stat(p));
    } catch (err) {
      if (errnoCode(err) === "ENOENT") return undefined;
      throw err;
    }
    const createdAt = Math.round(mtimeMs);
    const side = await this.#readLabels(d);
    return { digest: d, size, createdAt, updatedAt: side?.updatedAt ?? createdAt, labels: side?.labels ?? {} };
  }

  async reader(d: Digest, range?: ReadRange): Promise<Readable> {
    const p = this.path(d);
    let file;
    try {
      file = await open(p, "r");
    } catch (err) {
      if (errnoCode(err) === "ENOENT") throw new NotFoundError(`content ${d}: not found`, { cause: err });
      throw err;
    }
    try {
      const { start, end } = checkRange(d, (await file.stat()).size, range);
      if (end === start) {
        await file.close();
        return Readable.from([]);
      }
      return file.createReadStream({ start, end: end - 1, autoClose: true });
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async writer(opts: WriterOptions): Promise<BlobWriter> {
    const { ref, expected, total } = checkWriterOptions(opts);
    const dir = this.#ingestDir(ref);
    this.#lock(ref, dir);
    try {
      if (expected !== undefined && (await exists(this.path(expected)))) {
        throw new AlreadyExistsError(`content ${expected}: already exists`);
      }
      const alg = expected === undefined ? "sha256" : digestAlgorithm(expected);
      const state = (await this.#resume(ref, dir, { total, alg })) ?? (await this.#start(ref, dir, { total, alg }));
      const file = await open(join(dir, "data"), "r+");
      return new LocalWriter({
        ref, dir, file, digester: state.digester, total: state.total, updatedAt: state.updatedAt, host: this.#host,
        release: () => LOCKS.delete(dir),
      });
    } catch (err) {
      LOCKS.delete(dir);
      throw err;
    }
  }

  async status(ref: string): Promise<IngestStatus> {
    checkRef(ref, "status");
    try {
      const status = await readIngestStatus(this.#ingestDir(ref));
      if (status.ref === ref) return status;
    } catch (err) {
      if (errnoCode(err) !== "ENOENT") throw err;
    }
    throw new NotFoundError(`ingest of ref ${ref}: not found`);
  }

  async listStatuses(): Promise<IngestStatus[]> {
    const out: IngestStatus[] = [];
    for (const name of await this.#ingestNames()) {
      if (!isIngestDirName(name)) continue;
      try {
        out.push(await readIngestStatus(join(this.root, "ingest", name)));
      } catch (err) {
        // Committed or aborted while listed, or broken (pruneIngests removes those).
        if (errnoCode(err) !== "ENOENT" && !(err instanceof FailedPreconditionError)) throw err;
      }
    }
    return out.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }

  async abort(ref: string): Promise<void> {
    checkRef(ref, "abort");
    const dir = this.#ingestDir(ref);
    this.#lock(ref, dir);
    try {
      if (!(await exists(dir))) throw new NotFoundError(`ingest of ref ${ref}: not found`);
      await removeIngestDir(dir);
    } finally {
      LOCKS.delete(dir);
    }
  }

  /**
   * Removes every ingest not held by a writer whose `updatedat` is more than
   * `olderThanMs` before the clock's now, and the leftovers of interrupted starts and
   * aborts. Returns the refs of the ingests removed. A `writer` opened for an ingest
   * while it is examined fails with UnavailableError.
   */
  async pruneIngests(olderThanMs: number): Promise<string[]> {
    checkSize(olderThanMs, "pruneIngests: olderThanMs");
    const cutoff = this.#clock.now() - olderThanMs;
    const root = join(this.root, "ingest");
    const removed: string[] = [];
    for (const name of await this.#ingestNames()) {
      const dir = join(root, name);
      if (!isIngestDirName(name)) {
        const [base = "", suffix] = name.split(".");
        if ((suffix === "tmp" || suffix === "new") && isIngestDirName(base) && !LOCKS.has(join(root, base))) {
          await rm(dir, { recursive: true, force: true });
        }
        continue;
      }
      if (LOCKS.has(dir)) continue;
      LOCKS.add(dir);
      try {
        let status: IngestStatus | undefined;
        try {
          status = await readIngestStatus(dir);
        } catch (err) {
          if (errnoCode(err) === "ENOENT" && !(await exists(dir))) continue;
          if (errnoCode(err) !== "ENOENT" && !(err instanceof FailedPreconditionError)) throw err;
        }
        if (status === undefined || status.updatedAt < cutoff) {
          await removeIngestDir(dir);
          if (status !== undefined) removed.push(status.ref);
        }
      } finally {
        LOCKS.delete(dir);
      }
    }
    return removed.sort();
  }

  async delete(d: Digest): Promise<void> {
    const p = this.path(d);
    await this.#serialLabels(d, async () => {
      if (!(await exists(p))) throw new NotFoundError(`content ${d}: not found`);
      // Labels first: a crash in between leaves a blob without labels, never labels that
      // a later commit of the same digest would inherit.
      await rm(this.#labelsPath(d), { force: true });
      try {
        await unlink(p);
      } catch (err) {
        if (errnoCode(err) === "ENOENT") throw new NotFoundError(`content ${d}: not found`, { cause: err });
        throw err;
      }
    });
  }

  async *walk(): AsyncIterable<Info> {
    const blobs = join(this.root, "blobs");
    for (const alg of (await readdirOrEmpty(blobs)).sort()) {
      if (!isDigestAlgorithm(alg)) continue;
      for (const hex of (await readdirOrEmpty(join(blobs, alg))).sort()) {
        const d = `${alg}:${hex}`;
        if (!isDigest(d)) continue;
        const info = await this.info(d);
        if (info !== undefined) yield info;
      }
    }
  }

  async setLabels(d: Digest, labels: Record<string, string>): Promise<Info> {
    checkDigest(d, "setLabels: blob");
    const valid = validateLabels(labels);
    return this.#updateLabels(d, () => valid);
  }

  #ingestDir(ref: string): string {
    return join(this.root, "ingest", ingestDirName(ref));
  }

  #labelsPath(d: Digest): string {
    return join(this.root, "labels", digestAlgorithm(d), `${digestEncoded(d)}.json`);
  }

  #lock(ref: string, dir: string): void {
    if (LOCKS.has(dir)) throw new UnavailableError(`ref ${ref} locked: another writer (or an abort) holds it`);
    LOCKS.add(dir);
  }

  async #ingestNames(): Promise<string[]> {
    return (await readdirOrEmpty(join(this.root, "ingest"))).sort();
  }

  /** The state of an existing ingest for `ref`, or undefined (after removing it) when it cannot be resumed. */
  async #resume(ref: string, dir: string, opts: { total: number | undefined; alg: DigestAlgorithm }): Promise<IngestState | undefined> {
    let status: IngestStatus;
    try {
      status = await readIngestStatus(dir);
    } catch (err) {
      if (errnoCode(err) === "ENOENT" && !(await exists(dir))) return undefined;
      if (errnoCode(err) !== "ENOENT" && !(err instanceof FailedPreconditionError)) throw err;
      await removeIngestDir(dir); // broken: start over
      return undefined;
    }
    const totalDiffers = opts.total !== undefined && status.total !== undefined && opts.total !== status.total;
    if (status.ref !== ref || totalDiffers) {
      // A sha256 collision of refs or a different announced size: what is there is not this content.
      await removeIngestDir(dir);
      return undefined;
    }
    if (status.total === undefined && opts.total !== undefined) await writeFileAtomic(join(dir, "total"), String(opts.total));
    const digester = await hashFile(join(dir, "data"), opts.alg);
    return { digester, total: status.total ?? opts.total, updatedAt: status.updatedAt };
  }

  /** A new ingest, built beside its place and renamed in; small metadata calls, made synchronously (see removeIngestDir). */
  async #start(ref: string, dir: string, opts: { total: number | undefined; alg: DigestAlgorithm }): Promise<IngestState> {
    mkdirSync(dirname(dir), { recursive: true });
    const tmp = `${dir}.new`;
    rmSync(tmp, { recursive: true, force: true });
    const now = this.#clock.now();
    const iso = new Date(now).toISOString();
    try {
      mkdirSync(tmp);
      writeFileSync(join(tmp, "ref"), ref);
      writeFileSync(join(tmp, "startedat"), iso);
      writeFileSync(join(tmp, "updatedat"), iso);
      if (opts.total !== undefined) writeFileSync(join(tmp, "total"), String(opts.total));
      writeFileSync(join(tmp, "data"), "");
      renameSync(tmp, dir);
    } catch (err) {
      // a half-built ingest is of no use (and on a full disk, its files hold space)
      rmSync(tmp, { recursive: true, force: true });
      throw noSpaceError(err, tmp);
    }
    return { digester: new Digester(opts.alg), total: opts.total, updatedAt: now };
  }


  async #readLabels(d: Digest): Promise<LabelFile | undefined> {
    const p = this.#labelsPath(d);
    const text = await readFileIfExists(p, "utf8");
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as { labels?: unknown; updatedAt?: unknown };
      if (typeof parsed.updatedAt !== "number") throw new Error("updatedAt must be a number");
      return { labels: validateLabels(parsed.labels), updatedAt: parsed.updatedAt };
    } catch (err) {
      throw new FailedPreconditionError(`labels of content ${d} in ${p}: unreadable: ${(err as Error).message}`, { cause: err });
    }
  }

  #updateLabels(d: Digest, update: (current: Record<string, string>) => Record<string, string>): Promise<Info> {
    return this.#serialLabels(d, async () => {
      const info = await this.info(d);
      if (info === undefined) throw new NotFoundError(`content ${d}: not found`);
      const labels = update(info.labels);
      const updatedAt = this.#clock.now();
      await this.#writeLabels(d, { labels, updatedAt });
      return { ...info, labels, updatedAt };
    });
  }

  /** Gives a newly committed blob exactly `labels`, dropping any left by a crash during an earlier delete. */
  #resetLabels(d: Digest, labels: Record<string, string> | undefined): Promise<void> {
    return this.#serialLabels(d, async () => {
      if (labels === undefined || Object.keys(labels).length === 0) await rm(this.#labelsPath(d), { force: true });
      else await this.#writeLabels(d, { labels, updatedAt: this.#clock.now() });
    });
  }

  async #writeLabels(d: Digest, file: LabelFile): Promise<void> {
    const p = this.#labelsPath(d);
    await mkdir(dirname(p), { recursive: true });
    await writeFileAtomic(p, JSON.stringify(file));
  }

  #serialLabels<T>(d: Digest, fn: () => Promise<T>): Promise<T> {
    const key = this.#labelsPath(d);
    const run = (LABEL_QUEUES.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => undefined);
    LABEL_QUEUES.set(key, tail);
    void tail.then(() => {
      if (LABEL_QUEUES.get(key) === tail) LABEL_QUEUES.delete(key);
    });
    return run;
  }
}

async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return [];
    throw err;
  }
}
