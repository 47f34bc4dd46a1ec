/**
 * What a registry means, above the files: manifests and their references, tags,
 * referrers, blob links per repository. Handlers call this; it throws RegistryErrors
 * with the spec's codes. Storage is the three stores in ./storage.
 */
import type { Clock } from "../../clock/index.js";
import {
  digestAlgorithm,
  digestOf,
  isNondistributable,
  parseDigest,
  parseManifest,
  referencedDescriptors,
  type Descriptor,
  type Digest,
  type ParsedManifest,
} from "../../oci/index.js";
import { validateRepositoryName, validateTag } from "../../reference/index.js";
import { RegistryError } from "./errcode.js";
import type { ReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { BlobStore, RepositoryStore, UploadStore, type AppendOptions, type BlobInfo, type UploadState } from "./storage/index.js";

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface StoredManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

export interface PutManifestResult {
  digest: Digest;
  subject?: Digest;
  tags: string[];
}

/** A manifest reference from a URL: a tag or a digest. */
export type ManifestReference = { tag: string } | { digest: Digest };

export function parseName(name: string): string {
  try {
    validateRepositoryName(name);
    return name;
  } catch (err) {
    throw new RegistryError("NAME_INVALID", (err as Error).message, {
      detail: { name },
    });
  }
}

export function parseDigestParam(value: string, what = "digest"): Digest {
  try {
    return parseDigest(value);
  } catch (err) {
    throw new RegistryError("DIGEST_INVALID", `invalid ${what} ${JSON.stringify(value)}: ${(err as Error).message}`, {
      detail: { [what]: value },
    });
  }
}

export function parseTag(tag: string): string {
  try {
    validateTag(tag);
    return tag;
  } catch (err) {
    throw new RegistryError("TAG_INVALID", (err as Error).message, { detail: { tag } });
  }
}

export function parseManifestReference(ref: string): ManifestReference {
  if (ref.includes(":")) return { digest: parseDigestParam(ref) };
  return { tag: parseTag(ref) };
}

/** A small cache of manifest bytes by digest; content under a digest never changes. */
class ManifestCache {
  readonly #max: number;
  #map = new Map<Digest, Buffer>();
  constructor(max: number) {
    this.#max = max;
  }
  get(d: Digest): Buffer | undefined {
    const v = this.#map.get(d);
    if (v) {
      this.#map.delete(d);
      this.#map.set(d, v);
    }
    return v;
  }
  set(d: Digest, b: Buffer): void {
    if (b.length > 256 * 1024) return;
    this.#map.set(d, b);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
  }
}

export interface RegistryOptions {
  clock: Clock;
  maxManifestBytes?: number;
}

export class Registry {
  readonly blobs: BlobStore;
  readonly repos: RepositoryStore;
  readonly uploads: UploadStore;
  readonly maxManifestBytes: number;
  readonly #cache = new ManifestCache(2048);

  constructor(root: string, opts: RegistryOptions) {
    this.blobs = new BlobStore(root, { clock: opts.clock });
    this.repos = new RepositoryStore(root);
    this.uploads = new UploadStore(root, { clock: opts.clock, blobs: this.blobs });
    this.maxManifestBytes = opts.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  }

  async resolve(name: string, ref: ManifestReference): Promise<Digest | undefined> {
    return "digest" in ref ? ref.digest : this.repos.getTag(name, ref.tag);
  }

  /** The manifest under a tag or digest, or undefined when this repository has none. */
  async getManifest(name: string, ref: ManifestReference): Promise<StoredManifest | undefined> {
    const digest = await this.resolve(name, ref);
    if (!digest) return undefined;
    const rev = await this.repos.getRevision(name, digest);
    if (!rev) return undefined;
    let bytes = this.#cache.get(digest);
    if (!bytes) {
      bytes = await this.blobs.readAll(digest);
      if (!bytes) return undefined;
      this.#cache.set(digest, bytes);
    }
    return { digest, mediaType: rev.mediaType, bytes };
  }

  /** Validates and stores a manifest, then points `ref` (and any extra tags) at it. */
  async putManifest(
    name: string,
    ref: ManifestReference,
    body: { bytes: Buffer; contentType: string | undefined; extraTags?: string[] },
  ): Promise<PutManifestResult> {
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(body.bytes, body.contentType);
    } catch (err) {
      throw new RegistryError("MANIFEST_INVALID", `manifest invalid: ${(err as Error).message}`, { cause: err });
    }
    const alg = "digest" in ref ? digestAlgorithm(ref.digest) : "sha256";
    const digest = digestOf(body.bytes, alg);
    if ("digest" in ref && ref.digest !== digest) {
      throw new RegistryError("DIGEST_INVALID", `manifest digest ${digest} does not match reference ${ref.digest}`, {
        detail: { expected: ref.digest, actual: digest },
      });
    }
    const tags = [...("tag" in ref ? [ref.tag] : []), ...(body.extraTags ?? []).map(parseTag)];
    await this.#checkReferences(name, parsed);

    await this.blobs.put(digest, body.bytes);
    await this.repos.putRevision(name, { digest, mediaType: parsed.mediaType });
    const subject = parsed.body.subject;
    if (subject) await this.repos.putReferrer(name, subject.digest, referrerDescriptor(parsed, digest, body.bytes.length));
    for (const tag of tags) await this.repos.putTag(name, tag, digest);
    return { digest, tags, ...(subject ? { subject: subject.digest } : {}) };
  }

  async #checkReferences(name: string, m: ParsedManifest): Promise<void> {
    for (const { role, desc } of referencedDescriptors(m)) {
      if (role === "layer" && isNondistributable(desc.mediaType)) continue;
      const present = role === "manifest"
        ? (await this.repos.getRevision(name, desc.digest)) !== undefined
        : await this.repos.hasBlob(name, desc.digest) && (await this.blobs.stat(desc.digest)) !== undefined;
      if (!present) {
        throw new RegistryError("MANIFEST_BLOB_UNKNOWN", `manifest references ${role} ${desc.digest} unknown to repository ${name}`, {
          detail: { digest: desc.digest },
        });
      }
      // A blob in use again is not garbage: the collector spares blobs touched after it started.
      await this.blobs.touch(desc.digest);
    }
  }

  /** Deletes a tag, or a manifest with every tag that points at it. */
  async deleteManifest(name: string, ref: ManifestReference): Promise<void> {
    if ("tag" in ref) {
      if (!(await this.repos.deleteTag(name, ref.tag))) {
        throw new RegistryError("MANIFEST_UNKNOWN", `tag ${ref.tag} unknown in repository ${name}`, { detail: { tag: ref.tag } });
      }
      return;
    }
    const m = await this.getManifest(name, ref);
    if (!m) throw new RegistryError("MANIFEST_UNKNOWN", `manifest ${ref.digest} unknown in repository ${name}`, { detail: { digest: ref.digest } });
    for (const tag of await this.repos.tagsOf(name, m.digest)) await this.repos.deleteTag(name, tag);
    try {
      const parsed = parseManifest(m.bytes, m.mediaType);
      if (parsed.body.subject) await this.repos.deleteReferrer(name, parsed.body.subject.digest, m.digest);
    } catch {
      // a stored manifest was validated on the way in; nothing to unlink if it no longer parses
    }
    await this.repos.deleteRevision(name, m.digest);
  }

  /** Links a blob that exists in `from` (or anywhere, when `from` is undefined) into `name`. */
  async mountBlob(name: string, digest: Digest, from: string | undefined): Promise<boolean> {
    if (from !== undefined && !(await this.repos.hasBlob(from, digest))) return false;
    if (!(await this.blobs.stat(digest))) return false;
    await this.repos.linkBlob(name, digest);
    await this.blobs.touch(digest);
    return true;
  }

  // Blobs, tags and uploads as the handlers ask for them: no handler reaches around the
  // registry into its stores.

  /** The blob as repository `name` holds it (linked there, and its bytes present), or undefined. */
  async statBlob(name: string, digest: Digest): Promise<BlobInfo | undefined> {
    return (await this.repos.hasBlob(name, digest)) ? this.blobs.stat(digest) : undefined;
  }

  /** The bytes of a blob, or of a byte range of it. */
  readBlob(digest: Digest, range?: { start: number; end: number }): ReadStream {
    return this.blobs.read(digest, range);
  }

  /** Unlinks a blob from a repository (its bytes stay until garbage collection); BLOB_UNKNOWN if it was not linked. */
  async deleteBlob(name: string, digest: Digest): Promise<void> {
    if (!(await this.repos.unlinkBlob(name, digest))) {
      throw new RegistryError("BLOB_UNKNOWN", `blob ${digest} unknown in repository ${name}`, { detail: { digest } });
    }
  }

  async repositoryExists(name: string): Promise<boolean> {
    return this.repos.exists(name);
  }

  /** Every repository, sorted. */
  async catalog(): Promise<string[]> {
    return this.repos.catalog();
  }

  /** A repository's tags in lexical order (hidden `.` tags left out); NAME_UNKNOWN for a repository it does not know. */
  async tags(name: string): Promise<string[]> {
    const tags = await this.repos.tags(name);
    if (tags.length === 0 && !(await this.repos.exists(name))) {
      throw new RegistryError("NAME_UNKNOWN", `repository ${name} not known to registry`, { detail: { name } });
    }
    return tags.filter((t) => !t.startsWith("."));
  }

  startUpload(name: string): Promise<UploadState> {
    return this.uploads.create(name);
  }

  uploadStatus(name: string, uuid: string): Promise<UploadState> {
    return this.uploads.get(name, uuid);
  }

  appendUpload(name: string, uuid: string, body: Readable, opts?: AppendOptions): Promise<UploadState> {
    return this.uploads.append(name, uuid, body, opts);
  }

  /** Closes an upload (with an optional last chunk) as blob `digest`, and links the blob into the repository. */
  async completeUpload(name: string, uuid: string, digest: Digest, last?: { body: Readable; opts: AppendOptions }): Promise<void> {
    await this.uploads.complete(name, uuid, digest, last?.body, last?.opts);
    await this.repos.linkBlob(name, digest);
  }

  cancelUpload(name: string, uuid: string): Promise<void> {
    return this.uploads.cancel(name, uuid);
  }

  async referrers(name: string, subject: Digest, artifactType?: string): Promise<Descriptor[]> {
    const all = await this.repos.referrers(name, subject);
    const live: Descriptor[] = [];
    for (const d of all) if (await this.repos.getRevision(name, d.digest)) live.push(d);
    return artifactType === undefined ? live : live.filter((d) => d.artifactType === artifactType);
  }
}

function referrerDescriptor(m: ParsedManifest, digest: Digest, size: number): Descriptor {
  const artifactType = m.body.artifactType ?? (m.kind === "manifest" ? m.body.config.mediaType : undefined);
  return {
    mediaType: m.mediaType,
    digest,
    size,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(m.body.annotations !== undefined ? { annotations: m.body.annotations } : {}),
  };
}
