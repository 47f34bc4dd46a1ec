/**
 * A client for one registry host's Distribution API. Layers, from the bottom:
 * `challenge.ts` parses WWW-Authenticate, `authorizer.ts` holds the host's auth state,
 * `transport.ts` sends requests (auth, retries, redirects); the operations live in
 * `manifests.ts`, `blobs.ts`, `uploads.ts` and `tags.ts`; this class wires them up.
 * URLs come from the route table the server dispatches on (`../api/routes.ts`).
 */
import type { Readable } from "node:stream";
import { realClock, type Clock } from "../../clock/index.js";
import { InvalidArgumentError } from "../../errdefs/index.js";
import type { Descriptor, Digest } from "../../oci/index.js";
import { urls } from "../api/index.js";
import { Authorizer } from "./authorizer.js";
import { discard } from "./body.js";
import { blobExists, fetchBlob, type FetchBlobOptions } from "./blobs.js";
import { apiUrl, type ClientContext } from "./client-context.js";
import { httpsFirst, isDockerHub, registryBaseUrl } from "./endpoint.js";
import { defaultSchemeProbe, httpsFirstFetch, type SchemeProbe } from "./https-first.js";
import { insecureHttpsFetch, registryFetch } from "./node-fetch.js";
import { responseError } from "./errors.js";
import { fetchManifest, pushManifest, resolveManifest, type FetchedManifest } from "./manifests.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry.js";
import { listTags } from "./tags.js";
import { timeoutsWith, type ClientTimeouts } from "./timeouts.js";
import { Transport } from "./transport.js";
import type { Credentials, FetchLike } from "./types.js";
import { mountBlob, pushBlob, type PushBlobOptions, type PushedBlob } from "./uploads.js";

export interface RegistryClientOptions {
  /** the API's base URL, e.g. `http://127.0.0.1:5000`; wins over `host` */
  baseUrl?: string;
  /** the registry host as image references name it: `docker.io`, `quay.io`, `127.0.0.1:5000` */
  host?: string;
  /** plain HTTP for `host` (true) or HTTPS only (false); by default loopback hosts try HTTPS, then plain HTTP */
  insecure?: boolean;
  /**
   * try HTTPS, certificate not checked, before the base URL's plain HTTP (see https-first.ts);
   * default: for a loopback `host` given without `baseUrl` or `insecure`. Only with the client's own fetch.
   */
  httpsFirst?: boolean;
  /** where the scheme found for a host is kept (default: one per process) */
  schemeProbe?: SchemeProbe;
  credentials?: Credentials;
  clock?: Clock;
  /** replaces the client's own (whose `timeouts` and `skipVerify` it then does not apply) */
  fetch?: FetchLike;
  /** do not check the registry's TLS certificate (hosts.json `skipVerify`) */
  skipVerify?: boolean;
  /** connect, response and body timeouts (default DEFAULT_TIMEOUTS) */
  timeouts?: Partial<ClientTimeouts>;
  /** attempts per request, the first included (default 5) */
  maxAttempts?: number;
  /** back-off between attempts: doubling from `initialMs` (500) up to `maxMs` (10 s) */
  backoff?: { initialMs?: number; maxMs?: number };
  userAgent?: string;
}

export const DEFAULT_USER_AGENT = "podyard/0.1";

/**
 * The client's own fetch: plain-HTTP GETs over podyard's sockets (faster for blobs), the
 * rest over node:http(s), with the timeouts; HTTPS before HTTP when `first`.
 */
function ownFetch(baseUrl: URL, opts: RegistryClientOptions, first: boolean): FetchLike {
  const timeouts = opts.timeouts ? { timeouts: opts.timeouts } : {};
  const http = opts.skipVerify ? insecureHttpsFetch(timeouts) : registryFetch(timeouts);
  if (!first) return http;
  return httpsFirstFetch({
    host: baseUrl.host,
    http,
    https: opts.skipVerify ? http : insecureHttpsFetch(timeouts),
    probe: opts.schemeProbe ?? defaultSchemeProbe,
    connectMs: timeoutsWith(opts.timeouts).connectMs,
  });
}

export class RegistryClient {
  readonly #ctx: ClientContext;

  constructor(opts: RegistryClientOptions) {
    let baseUrl: URL;
    let host: string;
    let first = opts.httpsFirst ?? false;
    if (opts.baseUrl !== undefined) {
      try {
        baseUrl = new URL(opts.baseUrl);
      } catch {
        throw new InvalidArgumentError(`invalid registry URL ${JSON.stringify(opts.baseUrl)}`);
      }
      if (baseUrl.protocol !== "http:" && baseUrl.protocol !== "https:") throw new InvalidArgumentError(`registry URL ${opts.baseUrl} is not http(s)`);
      host = opts.host ?? baseUrl.host;
    } else if (opts.host !== undefined) {
      host = opts.host;
      const scheme = opts.insecure === undefined ? {} : { insecure: opts.insecure };
      baseUrl = registryBaseUrl(host, scheme);
      first = opts.httpsFirst ?? httpsFirst(host, scheme);
    } else {
      throw new InvalidArgumentError("a registry client needs a baseUrl or a host");
    }
    const clock = opts.clock ?? realClock;
    const fetchFn = opts.fetch ?? ownFetch(baseUrl, opts, first && baseUrl.protocol === "http:");
    const retry: RetryPolicy = {
      ...DEFAULT_RETRY_POLICY,
      ...(opts.maxAttempts !== undefined ? { maxAttempts: Math.max(1, opts.maxAttempts) } : {}),
      ...opts.backoff,
    };
    const authorizer = new Authorizer({ host, credentials: opts.credentials, fetch: fetchFn, clock });
    const transport = new Transport({ host, authorizer, clock, fetch: fetchFn, retry, userAgent: opts.userAgent ?? DEFAULT_USER_AGENT });
    this.#ctx = { transport, baseUrl, host, dockerHub: isDockerHub(baseUrl.host) || isDockerHub(host), clock, retry };
  }

  /** The registry host, as messages name it. */
  get host(): string {
    return this.#ctx.host;
  }

  /** The API's base URL. */
  get baseUrl(): URL {
    return new URL(this.#ctx.baseUrl.href);
  }

  /** Checks that the registry speaks the API (GET /v2/), authenticating when it asks. */
  async ping(): Promise<void> {
    const res = await this.#ctx.transport.request({ method: "GET", url: apiUrl(this.#ctx, urls.base()), scopes: [] });
    if (!res.ok) throw await responseError(res, { host: this.#ctx.host, verb: "reach", what: "API at /v2/" });
    discard(res);
  }

  /** The descriptor of a tag or digest: HEAD, falling back to GET. */
  resolve(repo: string, ref: string): Promise<Descriptor> {
    return resolveManifest(this.#ctx, repo, ref);
  }

  /** The manifest bytes, verified against the digest and capped at 4 MiB. */
  getManifest(repo: string, ref: string): Promise<FetchedManifest> {
    return fetchManifest(this.#ctx, repo, ref);
  }

  /** A stream of the blob that errors on a size or digest mismatch and resumes cut downloads. */
  fetchBlob(repo: string, digest: Digest, opts: FetchBlobOptions = {}): Promise<Readable> {
    return fetchBlob(this.#ctx, repo, digest, opts);
  }

  blobExists(repo: string, digest: Digest): Promise<boolean> {
    return blobExists(this.#ctx, repo, digest);
  }

  /** All tags of a repository, following pagination. */
  tags(repo: string, opts: { pageSize?: number } = {}): Promise<string[]> {
    return listTags(this.#ctx, repo, opts);
  }

  /** Uploads a blob (skipped when a buffer's blob is already there); returns its digest and size. */
  pushBlob(repo: string, body: Uint8Array | Readable, opts: PushBlobOptions = {}): Promise<PushedBlob> {
    return pushBlob(this.#ctx, repo, body, opts);
  }

  /** Links a blob from repository `from` into `repo`; false when the registry would not mount it. */
  mountBlob(repo: string, digest: Digest, from: string): Promise<boolean> {
    return mountBlob(this.#ctx, repo, digest, from);
  }

  /** Stores manifest bytes under a tag or digest; returns their digest. */
  putManifest(repo: string, ref: string, bytes: Uint8Array, mediaType: string): Promise<Digest> {
    return pushManifest(this.#ctx, repo, ref, bytes, mediaType);
  }
}
