/**
 * The files of one ingest directory, as containerd's local store lays them out:
 * `ingest/<sha256(ref)>/{ref,data,startedat,updatedat,total}`. Timestamps are RFC 3339
 * text; each small file is written atomically.
 */
import { createHash } from "node:crypto";
import { createReadStream, renameSync, rmSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { errnoCode, FailedPreconditionError } from "../../errdefs/index.js";
import { readFileIfExists } from "../../fsutil/index.js";
import { Digester, type Digest, type DigestAlgorithm } from "../../oci/index.js";
import type { IngestStatus } from "./content.js";
import { writeFileAtomic } from "../../fsutil/index.js";

/** The directory name of an ingest: the hex sha256 of its ref (containerd's `ingestRoot`). */
export function ingestDirName(ref: string): string {
  return createHash("sha256").update(ref).digest("hex");
}

/** True for a name `ingestDirName` can produce (leftovers such as `*.tmp` are not). */
export function isIngestDirName(name: string): boolean {
  return /^[a-f0-9]{64}$/.test(name);
}

export async function writeTimestamp(path: string, ms: number): Promise<void> {
  await writeFileAtomic(path, new Date(ms).toISOString());
}

async function readTimestamp(path: string): Promise<number> {
  const text = await readFile(path, "utf8");
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new FailedPreconditionError(`ingest file ${path}: invalid timestamp ${JSON.stringify(text)}`);
  return ms;
}

async function readTotal(dir: string): Promise<number | undefined> {
  const text = await readFileIfExists(join(dir, "total"), "utf8");
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new FailedPreconditionError(`ingest file ${join(dir, "total")}: invalid size ${JSON.stringify(text)}`);
  return n;
}

/**
 * Reads an ingest's status from its files. Throws the filesystem error (ENOENT) when a
 * file is missing, FailedPreconditionError when one is unreadable.
 */
export async function readIngestStatus(dir: string): Promise<IngestStatus> {
  const ref = await readFile(join(dir, "ref"), "utf8");
  const startedAt = await readTimestamp(join(dir, "startedat"));
  const updatedAt = await readTimestamp(join(dir, "updatedat"));
  const total = await readTotal(dir);
  const { size } = await stat(join(dir, "data"));
  const status: IngestStatus = { ref, offset: size, startedAt, updatedAt };
  if (total !== undefined) status.total = total;
  return status;
}

/**
 * Removes an ingest directory: renamed to `*.tmp` first, so a crash never leaves half an
 * ingest under its name. A handful of metadata calls, made synchronously: a pull keeps
 * libuv's thread pool busy inflating layers, and queueing behind that cost more than the calls.
 */
export async function removeIngestDir(dir: string): Promise<void> {
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    renameSync(dir, tmp);
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return;
    throw err;
  }
  rmSync(tmp, { recursive: true, force: true });
}

/** Hashes a file from the start; how a resumed writer rebuilds its digester. */
export async function hashFile(path: string, alg: DigestAlgorithm): Promise<Digester> {
  const digester = new Digester(alg);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) digester.update(chunk as Buffer);
  return digester;
}

/** The digest of a file's whole content. */
export async function digestFile(path: string, alg: DigestAlgorithm): Promise<Digest> {
  return (await hashFile(path, alg)).digest();
}
