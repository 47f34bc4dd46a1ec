/**
 * The pull-through cache (distribution's proxy mode) as an UpstreamSource: manifests
 * and blobs the registry lacks are fetched from the upstream registry with the
 * Distribution client, verified, stored, and then served like local content.
 * Manifests are stored without the reference check (their blobs arrive later, on
 * demand). Blobs stream into a temporary directory under `<root>/uploads/proxy-*`,
 * hashed as they are written, and are moved into the blob store only when the digest
 * matches; the temporary directory is removed whatever happens. Concurrent requests
 * for one blob share one download.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import { join } from "node:path";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { realClock, type Clock } from "../../clock/index.js";
import { errorClass } from "../../errdefs/index.js";
import { Digester, digestAlgorithm, type Digest } from "../../oci/index.js";
import { dockerHubRepository, isDockerHub, RegistryClient, type FetchLike } from "../client/index.js";
import { RegistryError } from "./errcode.js";
import type { UpstreamSource } from "./proxy.js";
import { Registry, type ManifestReference, type StoredManifest } from "./registry.js";
import { RegistryServer, type RegistryServerOptions } from "./server.js";
import { upstreamError } from "./upstream-error.js";

export interface ProxyCacheOptions {
  /** the registry's storage root; downloads in progress live under `<root>/uploads` */
  root: string;
  /** the upstream registry's API URL, e.g. `https://registry-1.docker.io` */
  remoteUrl: string;
  username?: string;
  password?: string;
  /** the local registry to fill; by default one opened on `root` */
  registry?: Registry;
  clock?: Clock;
  fetch?: FetchLike;
  /** attempts per upstream request (default 3): a tag pull waits for them before it falls back to the cache */
  maxAttempts?: number;
  backoff?: { initialMs?: number; maxMs?: number };
}

/** Upstream answers that mean "not there for us": Docker Hub answers 401 for unknown repositories. */
function isAbsent(err: unknown): boolean {
  const c = errorClass(err);
  return c === "NotFound" || c === "Unauthenticated" || c === "PermissionDenied";
}

interface Download {
  name: string;
  done: Promise<boolean>;
}

export class ProxyCache implements UpstreamSource {
  readonly #root: string;
  readonly #remote: string;
  readonly #registry: Registry;
  readonly #client: RegistryClient;
  readonly #dockerHub: boolean;
  /** the user name of the proxy's upstream credentials, if it has any */
  readonly #username: string | undefined;
  readonly #downloads = new Map<Digest, Download>();

  constructor(opts: ProxyCacheOptions) {
    const clock = opts.clock ?? realClock;
    this.#root = opts.root;
    this.#remote = opts.remoteUrl.replace(/\/+$/, "");
    this.#registry = opts.registry ?? new Registry(opts.root, { clock });
    this.#client = new RegistryClient({
      baseUrl: opts.remoteUrl,
      clock,
      maxAttempts: opts.maxAttempts ?? 3,
      ...(opts.username !== undefined ? { credentials: { username: opts.username, password: opts.password ?? "" } } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.backoff ? { backoff: opts.backoff } : {}),
    });
    this.#dockerHub = isDockerHub(this.#client.baseUrl.host);
    this.#username = opts.username;
  }

  /**
   * Whether upstream's refusal `err` means the content is not there for us: a 404, or a
   * 401/403 (Docker Hub answers 401 for repositories that do not exist). But when the
   * proxy's own credentials are refused (a ping of /v2/ with them fails with 401), every
   * pull would look like a missing image: that is an upstream failure, thrown as one.
   */
  async #absent(err: unknown): Promise<boolean> {
    if (!isAbsent(err)) return false;
    if (errorClass(err) !== "Unauthenticated" || this.#username === undefined) return true;
    try {
      await this.#client.ping();
    } catch (pingErr) {
      if (errorClass(pingErr) === "Unauthenticated") {
        throw new RegistryError("UNKNOWN", `upstream registry ${this.#remote} refused the proxy's credentials for user ${JSON.stringify(this.#username)}`, {
          status: 502, cause: pingErr,
        });
      }
    }
    return true;
  }

  /** The name upstream knows: on Docker Hub `alpine` is `library/alpine`. */
  #upstreamName(name: string): string {
    return this.#dockerHub ? dockerHubRepository(name) : name;
  }

  /**
   * A tag is resolved upstream with HEAD (Docker Hub does not count HEADs against its
   * rate limit); when that digest is cached already only the tag is updated, else the
   * manifest is fetched by digest. A digest is fetched directly.
   */
  async manifest(name: string, ref: ManifestReference): Promise<StoredManifest | undefined> {
    const upstream = this.#upstreamName(name);
    const { blobs, repos } = this.#registry;
    let m: StoredManifest;
    try {
      let digest: Digest;
      if ("tag" in ref) {
        digest = (await this.#client.resolve(upstream, ref.tag)).digest;
        const cached = await this.#registry.getManifest(name, { digest });
        if (cached) {
          await repos.putTag(name, ref.tag, digest);
          return cached;
        }
      } else {
        digest = ref.digest;
      }
      m = await this.#client.getManifest(upstream, digest);
    } catch (err) {
      if (await this.#absent(err)) return undefined;
      throw upstreamError(this.#remote, err);
    }
    await blobs.put(m.digest, m.bytes);
    await repos.putRevision(name, { digest: m.digest, mediaType: m.mediaType });
    if ("tag" in ref) await repos.putTag(name, ref.tag, m.digest);
    return { digest: m.digest, mediaType: m.mediaType, bytes: m.bytes };
  }

  async blob(name: string, digest: Digest): Promise<boolean> {
    const running = this.#downloads.get(digest);
    if (running) {
      if (running.name === name) return running.done;
      await running.done.catch(() => false);
      return this.blob(name, digest);
    }
    const done = this.#fetch(name, digest).finally(() => this.#downloads.delete(digest));
    this.#downloads.set(digest, { name, done });
    return done;
  }

  async #fetch(name: string, digest: Digest): Promise<boolean> {
    if (!(await this.#registry.blobs.stat(digest))) return this.#download(name, digest);
    // stored for another repository: serve it here only if upstream has it here too
    let present: boolean;
    try {
      present = await this.#client.blobExists(this.#upstreamName(name), digest);
    } catch (err) {
      if (await this.#absent(err)) return false;
      throw upstreamError(this.#remote, err);
    }
    if (present) await this.#registry.repos.linkBlob(name, digest);
    return present;
  }

  async #download(name: string, digest: Digest): Promise<boolean> {
    const dir = join(this.#root, "uploads", `proxy-${randomBytes(8).toString("hex")}`);
    const tmp = join(dir, "data");
    await mkdir(dir, { recursive: true });
    try {
      let source;
      try {
        source = await this.#client.fetchBlob(this.#upstreamName(name), digest);
      } catch (err) {
        if (await this.#absent(err)) return false;
        throw upstreamError(this.#remote, err);
      }
      const digester = new Digester(digestAlgorithm(digest));
      const hashing = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          digester.update(chunk);
          cb(null, chunk);
        },
      });
      // an upstream that breaks off mid-blob fails with the client's error; a local write error stays as it is
      await pipeline(source, hashing, createWriteStream(tmp, { flags: "wx" })).catch((err: unknown) => {
        throw upstreamError(this.#remote, err);
      });
      const fh = await open(tmp, "r+");
      let size: number;
      try {
        await fh.sync();
        size = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
      const got = digester.digest();
      if (got !== digest || size !== digester.size) {
        throw new RegistryError("UNKNOWN", `upstream registry ${this.#remote} sent ${got} (${size} bytes) for blob ${digest} in ${name}`, { status: 502 });
      }
      await this.#registry.blobs.commitFile(tmp, digest);
      await this.#registry.repos.linkBlob(name, digest);
      return true;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

export interface PullThroughServerOptions extends Omit<RegistryServerOptions, "upstream"> {
  remoteUrl: string;
  username?: string;
  password?: string;
  fetch?: FetchLike;
  maxAttempts?: number;
}

/**
 * A read-only registry that caches `remoteUrl` (`podyard registry serve --proxy-remote-url`):
 * pulls are served from the cache or fetched upstream; pushes and deletes get 405 UNSUPPORTED.
 */
export function createPullThroughServer(opts: PullThroughServerOptions): RegistryServer {
  const { remoteUrl, username, password, fetch, maxAttempts, ...server } = opts;
  const upstream = new ProxyCache({
    root: server.root,
    remoteUrl,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(server.clock ? { clock: server.clock } : {}),
    ...(fetch ? { fetch } : {}),
    ...(maxAttempts !== undefined ? { maxAttempts } : {}),
  });
  return new RegistryServer({ ...server, upstream, settings: { ...server.settings, readOnly: true } });
}
