/**
 * Image records in the node database (containerd's `images.Store`, with the kubelet's
 * `lastUsed`): one row per name, several names per image (config digest). Calls are
 * synchronous, as better-sqlite3 is; each write is one transaction.
 */
import type BetterSqlite3 from "better-sqlite3";
import { realClock, type Clock } from "../../clock/index.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../errdefs/index.js";
import { isDigest, type Descriptor, type Digest } from "../../oci/index.js";
import type { Database } from "./database.js";
import { validateLabels } from "../content/validate-labels.js";
import { validateImageRecord, type ImageRecord, type ImageRecordInput, type ValidImageRecord } from "./image-record.js";

/** Which records `list` returns; every given field must match. */
export interface ImageFilter {
  /** One exact normalised name. */
  name?: string;
  /** The repository part of the names, e.g. `docker.io/library/busybox`. */
  repository?: string;
  configDigest?: Digest;
  /** Labels the record must carry with these values. */
  labels?: Record<string, string>;
}

export interface ImageStoreOptions {
  /** The source of `createdAt`, `updatedAt` and the default `touch` time; the real clock by default. */
  clock?: Clock;
}

type BetterStatement = BetterSqlite3.Statement<unknown[]>;

interface ImageRow {
  name: string;
  target: string;
  config_digest: string;
  manifest_digest: string;
  size: number;
  chain_id: string | null;
  unpacked_size: number | null;
  created: string | null;
  created_at: number;
  updated_at: number;
  last_used: number | null;
  labels: string;
}

const SELECT = `SELECT name, target, config_digest, manifest_digest, size, chain_id, unpacked_size, created, created_at, updated_at, last_used,
  (SELECT json_group_object(key, value) FROM image_labels l WHERE l.name = images.name) AS labels
  FROM images`;

function toRecord(row: ImageRow): ImageRecord {
  const record: ImageRecord = {
    name: row.name,
    target: JSON.parse(row.target) as Descriptor,
    configDigest: row.config_digest as Digest,
    manifestDigest: row.manifest_digest as Digest,
    size: row.size,
    labels: JSON.parse(row.labels) as Record<string, string>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  if (row.chain_id !== null) record.chainID = row.chain_id as Digest;
  if (row.unpacked_size !== null) record.unpackedSize = row.unpacked_size;
  if (row.created !== null) record.created = row.created;
  if (row.last_used !== null) record.lastUsed = row.last_used;
  return record;
}

function checkDigestArg(d: unknown, what: string): Digest {
  if (typeof d !== "string" || !isDigest(d)) throw new InvalidArgumentError(`${what}: invalid digest ${JSON.stringify(d)}`);
  return d;
}

export class ImageStore {
  #db: Database;
  #clock: Clock;
  #get: BetterStatement;
  #byConfig: BetterStatement;
  #repoDigests: BetterStatement;
  #delete: BetterStatement;
  #touch: BetterStatement;
  #setUnpacked: BetterStatement;
  #put: (r: ValidImageRecord, now: number) => ImageRecord;

  /** `db` must come from `openDatabase`, which creates the tables. */
  constructor(db: Database, opts: ImageStoreOptions = {}) {
    this.#db = db;
    this.#clock = opts.clock ?? realClock;
    try {
      this.#get = db.prepare(`${SELECT} WHERE name = ?`);
      this.#byConfig = db.prepare(`${SELECT} WHERE config_digest = ? ORDER BY name`);
      // a label key is never empty (validateLabels), so `exceptLabel` "" leaves out nothing
      this.#repoDigests = db.prepare(
        `SELECT DISTINCT repository || '@' || target_digest AS d FROM images WHERE config_digest = ? AND repository != ''
          AND NOT EXISTS (SELECT 1 FROM image_labels l WHERE l.name = images.name AND l.key = ?) ORDER BY d`,
      );
      this.#delete = db.prepare("DELETE FROM images WHERE name = ?");
      this.#touch = db.prepare("UPDATE images SET last_used = ? WHERE name = ?");
      this.#setUnpacked = db.prepare("UPDATE images SET chain_id = ?, unpacked_size = ? WHERE config_digest = ?");
      const upsert = db.prepare(`INSERT INTO images
          (name, repository, target, target_digest, config_digest, manifest_digest, size, chain_id, unpacked_size, created, created_at, updated_at)
          VALUES (@name, @repository, @target, @targetDigest, @configDigest, @manifestDigest, @size, @chainID, @unpackedSize, @created, @now, @now)
        ON CONFLICT (name) DO UPDATE SET
          target = excluded.target, target_digest = excluded.target_digest, config_digest = excluded.config_digest,
          manifest_digest = excluded.manifest_digest, size = excluded.size, chain_id = excluded.chain_id,
          unpacked_size = excluded.unpacked_size, created = excluded.created,
          updated_at = excluded.updated_at`);
      const clearLabels = db.prepare("DELETE FROM image_labels WHERE name = ?");
      const addLabel = db.prepare("INSERT INTO image_labels (name, key, value) VALUES (?, ?, ?)");
      this.#put = db.transaction((r: ValidImageRecord, now: number): ImageRecord => {
        upsert.run({
          name: r.name, repository: r.repository, target: JSON.stringify(r.target), targetDigest: r.target.digest,
          configDigest: r.configDigest, manifestDigest: r.manifestDigest, size: r.size, chainID: r.chainID ?? null,
          unpackedSize: r.unpackedSize ?? null, created: r.created ?? null, now,
        });
        clearLabels.run(r.name);
        for (const [k, v] of Object.entries(r.labels)) addLabel.run(r.name, k, v);
        return toRecord(this.#get.get(r.name) as ImageRow);
      });
    } catch (err) {
      throw new FailedPreconditionError(`image store on database ${db.name}: ${(err as Error).message}; open it with openDatabase`, { cause: err });
    }
  }

  /** The record named `name`, or undefined. */
  get(name: string): ImageRecord | undefined {
    const row = this.#get.get(name) as ImageRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  /** Records matching `filter`, by name. */
  list(opts: { filter?: ImageFilter } = {}): ImageRecord[] {
    const f = opts.filter ?? {};
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (f.name !== undefined) {
      where.push("name = ?");
      args.push(f.name);
    }
    if (f.repository !== undefined) {
      where.push("repository = ?");
      args.push(f.repository);
    }
    if (f.configDigest !== undefined) {
      where.push("config_digest = ?");
      args.push(checkDigestArg(f.configDigest, "list: filter.configDigest"));
    }
    for (const [k, v] of Object.entries(f.labels === undefined ? {} : validateLabels(f.labels))) {
      where.push("EXISTS (SELECT 1 FROM image_labels l WHERE l.name = images.name AND l.key = ? AND l.value = ?)");
      args.push(k, v);
    }
    const sql = `${SELECT}${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY name`;
    return (this.#db.prepare(sql).all(...args) as ImageRow[]).map(toRecord);
  }

  /**
   * Creates or replaces the record named `record.name` (labels included) and returns
   * it as stored. `createdAt` and `lastUsed` survive a replace; `updatedAt` is now.
   * InvalidArgumentError names the field that is wrong.
   */
  put(record: ImageRecordInput): ImageRecord {
    const valid = validateImageRecord(record);
    return this.#put(valid, this.#clock.now());
  }

  /** Removes the record (and its labels); NotFoundError when there is none. */
  delete(name: string): void {
    if (this.#delete.run(name).changes === 0) throw new NotFoundError(`image ${JSON.stringify(name)}: not found`);
  }

  /** Records that the image was used at `at` (the clock's now by default); NotFoundError when absent. */
  touch(name: string, at: number = this.#clock.now()): void {
    if (!Number.isSafeInteger(at)) throw new InvalidArgumentError(`touch of image ${JSON.stringify(name)}: time ${at} must be an integer`);
    if (this.#touch.run(at, name).changes === 0) throw new NotFoundError(`image ${JSON.stringify(name)}: not found`);
  }

  /**
   * Records the top chain ID and unpacked size of every record of one image (for records
   * from before these were kept; the image service reads them from the image's config).
   */
  setUnpacked(configDigest: Digest, opts: { chainID: Digest; unpackedSize?: number }): void {
    checkDigestArg(configDigest, "setUnpacked");
    checkDigestArg(opts.chainID, "setUnpacked: chainID");
    const size = opts.unpackedSize;
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) throw new InvalidArgumentError(`setUnpacked of image ${configDigest}: unpackedSize ${size} must be a non-negative integer`);
    this.#setUnpacked.run(opts.chainID, size ?? null, configDigest);
  }

  /** Every record of one image (all its names), by name. */
  byConfigDigest(d: Digest): ImageRecord[] {
    return (this.#byConfig.all(checkDigestArg(d, "byConfigDigest")) as ImageRow[]).map(toRecord);
  }

  /**
   * The image's repo digests, as the CRI reports them: `repository@target.digest` for each
   * of its names, deduplicated and sorted; names whose record has the label `exceptLabel`
   * are left out.
   */
  repoDigests(configDigest: Digest, opts: { exceptLabel?: string } = {}): string[] {
    const rows = this.#repoDigests.all(checkDigestArg(configDigest, "repoDigests"), opts.exceptLabel ?? "") as { d: string }[];
    return rows.map((r) => r.d);
  }
}
