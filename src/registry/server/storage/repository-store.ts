/**
 * Per-repository metadata, kept as small files under `repositories/<name>/`:
 *
 *   _layers/<alg>/<hex>                 a blob this repository may serve (empty file)
 *   _manifests/revisions/<alg>/<hex>    a manifest of this repository; holds its media type
 *   _manifests/tags/<tag>               holds the digest the tag points at
 *   _referrers/<alg>/<subject hex>/<alg>-<hex>   holds the referrer's descriptor (JSON)
 *
 * Names, tags and digests are validated before they reach this module; repository
 * path components cannot start with "_", so these folders never clash with a name.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { pathExists } from "../../../fsutil/index.js";
import { digestAlgorithm, digestEncoded, isDigest, type Descriptor, type Digest } from "../../../oci/index.js";
import { DURABLE, isTempName, listDir, readTextIfExists, removeFile, writeFileAtomic } from "./fs-util.js";

export interface ManifestRevision {
  digest: Digest;
  mediaType: string;
}

const exists = pathExists;

export class RepositoryStore {
  readonly #root: string;

  constructor(root: string) {
    this.#root = join(root, "repositories");
  }

  #repo(name: string): string {
    return join(this.#root, ...name.split("/"));
  }
  #layer(name: string, d: Digest): string {
    return join(this.#repo(name), "_layers", digestAlgorithm(d), digestEncoded(d));
  }
  #revision(name: string, d: Digest): string {
    return join(this.#repo(name), "_manifests", "revisions", digestAlgorithm(d), digestEncoded(d));
  }
  #tag(name: string, tag: string): string {
    return join(this.#repo(name), "_manifests", "tags", tag);
  }
  #referrers(name: string, subject: Digest): string {
    return join(this.#repo(name), "_referrers", digestAlgorithm(subject), digestEncoded(subject));
  }

  async exists(name: string): Promise<boolean> {
    return exists(this.#repo(name));
  }

  // Layer links

  async linkBlob(name: string, d: Digest): Promise<void> {
    const path = this.#layer(name, d);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, "");
  }

  async hasBlob(name: string, d: Digest): Promise<boolean> {
    return (await exists(this.#layer(name, d))) || (await exists(this.#revision(name, d)));
  }

  async unlinkBlob(name: string, d: Digest): Promise<boolean> {
    return removeFile(this.#layer(name, d), this.#repo(name));
  }

  async *layerLinks(name: string): AsyncGenerator<Digest> {
    yield* this.#digestsUnder(join(this.#repo(name), "_layers"));
  }

  // Manifests

  async putRevision(name: string, rev: ManifestRevision): Promise<void> {
    await writeFileAtomic(this.#revision(name, rev.digest), rev.mediaType, DURABLE);
  }

  async getRevision(name: string, d: Digest): Promise<ManifestRevision | undefined> {
    const mediaType = await readTextIfExists(this.#revision(name, d));
    return mediaType === undefined ? undefined : { digest: d, mediaType };
  }

  async deleteRevision(name: string, d: Digest): Promise<boolean> {
    return removeFile(this.#revision(name, d), this.#repo(name));
  }

  async *revisions(name: string): AsyncGenerator<Digest> {
    yield* this.#digestsUnder(join(this.#repo(name), "_manifests", "revisions"));
  }

  // Tags

  async putTag(name: string, tag: string, d: Digest): Promise<void> {
    await writeFileAtomic(this.#tag(name, tag), d, DURABLE);
  }

  async getTag(name: string, tag: string): Promise<Digest | undefined> {
    const text = await readTextIfExists(this.#tag(name, tag));
    return text !== undefined && isDigest(text) ? text : undefined;
  }

  async deleteTag(name: string, tag: string): Promise<boolean> {
    return removeFile(this.#tag(name, tag), this.#repo(name));
  }

  /** All tags, sorted lexically. */
  async tags(name: string): Promise<string[]> {
    const names = await listDir(join(this.#repo(name), "_manifests", "tags"));
    return names.filter((t) => !isTempName(t)).sort();
  }

  /** Tags that point at `d`. */
  async tagsOf(name: string, d: Digest): Promise<string[]> {
    const out: string[] = [];
    for (const tag of await this.tags(name)) if ((await this.getTag(name, tag)) === d) out.push(tag);
    return out;
  }

  // Referrers

  async putReferrer(name: string, subject: Digest, desc: Descriptor): Promise<void> {
    const file = join(this.#referrers(name, subject), `${digestAlgorithm(desc.digest)}-${digestEncoded(desc.digest)}`);
    await writeFileAtomic(file, JSON.stringify(desc), DURABLE);
  }

  async deleteReferrer(name: string, subject: Digest, d: Digest): Promise<void> {
    await removeFile(join(this.#referrers(name, subject), `${digestAlgorithm(d)}-${digestEncoded(d)}`), this.#repo(name));
  }

  async referrers(name: string, subject: Digest): Promise<Descriptor[]> {
    const dir = this.#referrers(name, subject);
    const out: Descriptor[] = [];
    for (const f of (await listDir(dir)).sort()) {
      if (isTempName(f)) continue;
      const text = await readTextIfExists(join(dir, f));
      if (text !== undefined) out.push(JSON.parse(text) as Descriptor);
    }
    return out;
  }

  // Catalog

  /** Every repository that holds at least one manifest, sorted. */
  async catalog(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await listDir(dir);
      if (entries.includes("_manifests")) out.push(relative(this.#root, dir).split(sep).join("/"));
      for (const e of entries) if (!e.startsWith("_")) await walk(join(dir, e));
    };
    await walk(this.#root);
    return out.sort();
  }

  /** Every repository directory, manifests or not (for garbage collection). */
  async repositories(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await listDir(dir);
      if (entries.some((e) => e.startsWith("_"))) out.push(relative(this.#root, dir).split(sep).join("/"));
      for (const e of entries) if (!e.startsWith("_")) await walk(join(dir, e));
    };
    await walk(this.#root);
    return out.sort();
  }

  async *#digestsUnder(dir: string): AsyncGenerator<Digest> {
    for (const alg of await listDir(dir)) {
      for (const hex of await listDir(join(dir, alg))) {
        const d = `${alg}:${hex}`;
        if (isDigest(d)) yield d;
      }
    }
  }
}
