/**
 * Blob upload sessions: `uploads/<uuid>/{data,info}`. Bytes are hashed as they are
 * appended, so closing an upload costs no second read. A session is bound to the
 * repository it was started in; its id is unguessable. An append that fails half
 * way (a client gone, a short body) is cut back, so the session stays usable at its
 * last acknowledged size. After a restart the hash is rebuilt from the data file.
 */
import { createHash, randomUUID, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open, readFile, rm, stat, truncate } from "node:fs/promises";
import { join } from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Clock } from "../../../clock/index.js";
import { errnoCode } from "../../../errdefs/index.js";
import { digestAlgorithm, type Digest, type DigestAlgorithm } from "../../../oci/index.js";
import { RegistryError } from "../errcode.js";
import type { BlobStore } from "./blob-store.js";
import { DURABLE, listDir, writeFileAtomic } from "./fs-util.js";

export interface UploadState {
  uuid: string;
  name: string;
  /** bytes received and acknowledged so far */
  size: number;
  startedAt: number;
}

interface Session extends UploadState {
  hash: Hash | undefined;
  busy: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface AppendOptions {
  /** where the chunk must start (from Content-Range); a mismatch is a 416 */
  start?: number;
  /** how many bytes the chunk must have; a mismatch is SIZE_INVALID */
  length?: number;
}

export class UploadStore {
  readonly #root: string;
  readonly #clock: Clock;
  readonly #blobs: BlobStore;
  readonly #sessions = new Map<string, Session>();
  #onChange: (active: number) => void = () => {};

  constructor(root: string, opts: { clock: Clock; blobs: BlobStore }) {
    this.#root = join(root, "uploads");
    this.#clock = opts.clock;
    this.#blobs = opts.blobs;
  }

  /** Called with the number of sessions in memory whenever it changes (for metrics). */
  set onChange(fn: (active: number) => void) {
    this.#onChange = fn;
  }

  #dir(uuid: string): string {
    return join(this.#root, uuid);
  }

  async create(name: string): Promise<UploadState> {
    const uuid = randomUUID();
    const dir = this.#dir(uuid);
    await mkdir(dir, { recursive: true });
    const startedAt = this.#clock.now();
    await writeFileAtomic(join(dir, "data"), "", DURABLE);
    await writeFileAtomic(join(dir, "info"), JSON.stringify({ name, startedAt }), DURABLE);
    const s: Session = { uuid, name, size: 0, startedAt, hash: createHash("sha256"), busy: false };
    this.#sessions.set(uuid, s);
    this.#onChange(this.#sessions.size);
    return this.#public(s);
  }

  async get(name: string, uuid: string): Promise<UploadState> {
    return this.#public(await this.#load(name, uuid));
  }

  /** Appends a chunk and returns the new state. */
  async append(name: string, uuid: string, body: Readable, opts: AppendOptions = {}): Promise<UploadState> {
    const s = await this.#acquire(name, uuid);
    try {
      await this.#append(s, body, opts);
      return this.#public(s);
    } finally {
      s.busy = false;
    }
  }

  /**
   * Appends the last chunk (if any), verifies the whole upload against `digest`, and
   * moves it into the blob store. A digest mismatch ends the session.
   */
  async complete(name: string, uuid: string, digest: Digest, body?: Readable, opts: AppendOptions = {}): Promise<number> {
    const s = await this.#acquire(name, uuid);
    try {
      if (body) await this.#append(s, body, opts);
      const data = join(this.#dir(uuid), "data");
      const got = await this.#digest(s, digestAlgorithm(digest));
      if (got !== digest) {
        await this.#remove(s);
        throw new RegistryError("DIGEST_INVALID", `provided digest ${digest} did not match uploaded content ${got}`, {
          detail: { expected: digest, actual: got },
        });
      }
      const fh = await open(data, "r+");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.#blobs.commitFile(data, digest);
      await this.#remove(s);
      return s.size;
    } finally {
      s.busy = false;
    }
  }

  async cancel(name: string, uuid: string): Promise<void> {
    const s = await this.#acquire(name, uuid);
    await this.#remove(s);
  }

  /**
   * Sessions started before `cutoff` (ms since epoch), for expiry. Entries without a
   * readable info file (crash leftovers, a pull-through cache's downloads) are dated by
   * their modification time.
   */
  async stale(cutoff: number): Promise<UploadState[]> {
    const out: UploadState[] = [];
    for (const uuid of await listDir(this.#root)) {
      const info = await this.#readInfo(uuid);
      let startedAt = info?.startedAt;
      if (startedAt === undefined) {
        try {
          startedAt = (await stat(this.#dir(uuid))).mtimeMs;
        } catch {
          continue;
        }
      }
      if (startedAt < cutoff) out.push({ uuid, name: info?.name ?? "", size: 0, startedAt });
    }
    return out;
  }

  /** Removes a session whatever its repository (expiry, garbage collection). */
  async purge(uuid: string): Promise<void> {
    if (!UUID.test(uuid) && !uuid.startsWith("proxy-") && !uuid.includes(".tmp-")) return;
    const s = this.#sessions.get(uuid);
    if (s?.busy) return;
    this.#sessions.delete(uuid);
    this.#onChange(this.#sessions.size);
    await rm(this.#dir(uuid), { recursive: true, force: true });
  }

  #public(s: Session): UploadState {
    return { uuid: s.uuid, name: s.name, size: s.size, startedAt: s.startedAt };
  }

  async #readInfo(uuid: string): Promise<{ name: string; startedAt: number } | undefined> {
    try {
      const info = JSON.parse(await readFile(join(this.#dir(uuid), "info"), "utf8")) as { name?: unknown; startedAt?: unknown };
      if (typeof info.name !== "string" || typeof info.startedAt !== "number") return undefined;
      return { name: info.name, startedAt: info.startedAt };
    } catch (err) {
      if (errnoCode(err) === "ENOENT" || errnoCode(err) === "ENOTDIR" || err instanceof SyntaxError) return undefined;
      throw err;
    }
  }

  async #load(name: string, uuid: string): Promise<Session> {
    const unknown = new RegistryError("BLOB_UPLOAD_UNKNOWN", `blob upload ${uuid} unknown to registry`);
    if (!UUID.test(uuid)) throw unknown;
    let s = this.#sessions.get(uuid);
    if (!s) {
      const info = await this.#readInfo(uuid);
      if (!info) throw unknown;
      let size: number;
      try {
        size = (await stat(join(this.#dir(uuid), "data"))).size;
      } catch (err) {
        if (errnoCode(err) === "ENOENT") throw unknown;
        throw err;
      }
      s = this.#sessions.get(uuid) ?? { uuid, name: info.name, size, startedAt: info.startedAt, hash: undefined, busy: false };
      this.#sessions.set(uuid, s);
      this.#onChange(this.#sessions.size);
    }
    if (s.name !== name) throw unknown;
    return s;
  }

  async #acquire(name: string, uuid: string): Promise<Session> {
    const s = await this.#load(name, uuid);
    if (s.busy) {
      throw new RegistryError("BLOB_UPLOAD_INVALID", `blob upload ${uuid} is busy with another request`, {
        status: 416,
        headers: rangeHeaders(s),
      });
    }
    s.busy = true;
    return s;
  }

  async #append(s: Session, body: Readable, opts: AppendOptions): Promise<void> {
    if (opts.start !== undefined && opts.start !== s.size) {
      body.resume();
      throw new RegistryError("RANGE_INVALID", `chunk starts at ${opts.start}, but the upload has ${s.size} bytes`, {
        status: 416,
        headers: rangeHeaders(s),
      });
    }
    if (!s.hash) s.hash = await hashFile(join(this.#dir(s.uuid), "data"), "sha256", s.size);
    const hash = s.hash;
    const saved = hash.copy();
    let written = 0;
    const limit = opts.length;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        written += chunk.length;
        if (limit !== undefined && written > limit) {
          cb(new RegistryError("SIZE_INVALID", `chunk is longer than its declared ${limit} bytes`));
          return;
        }
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    const out = createWriteStream(join(this.#dir(s.uuid), "data"), { flags: "r+", start: s.size, highWaterMark: 1 << 20 });
    try {
      await pipeline(body, counter, out);
      if (limit !== undefined && written !== limit) {
        throw new RegistryError("SIZE_INVALID", `chunk has ${written} bytes, but ${limit} were declared`);
      }
    } catch (err) {
      await truncate(join(this.#dir(s.uuid), "data"), s.size);
      s.hash = saved;
      throw err;
    }
    s.size += written;
  }

  async #digest(s: Session, alg: DigestAlgorithm): Promise<Digest> {
    if (alg === "sha256" && s.hash) return `sha256:${s.hash.copy().digest("hex")}`;
    const h = await hashFile(join(this.#dir(s.uuid), "data"), alg, s.size);
    return `${alg}:${h.digest("hex")}`;
  }

  async #remove(s: Session): Promise<void> {
    this.#sessions.delete(s.uuid);
    this.#onChange(this.#sessions.size);
    await rm(this.#dir(s.uuid), { recursive: true, force: true });
  }
}

/** Headers that tell a client how much of an upload the registry holds. */
export function rangeHeaders(s: UploadState): Record<string, string> {
  return { Range: `0-${Math.max(s.size - 1, 0)}`, "Docker-Upload-UUID": s.uuid };
}

async function hashFile(path: string, alg: DigestAlgorithm, size: number): Promise<Hash> {
  const h = createHash(alg);
  if (size === 0) return h;
  for await (const chunk of createReadStream(path, { start: 0, end: size - 1 })) h.update(chunk as Buffer);
  return h;
}
