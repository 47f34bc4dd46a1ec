/**
 * From an image reference to registry clients (containerd's docker resolver):
 * `puller(ref)` gives a client that tries the registry's endpoints in order (mirrors,
 * then the registry itself, per `RegistryHosts`) and `pusher(ref)` the registry's own
 * client. One RegistryClient is kept per endpoint and set of credentials, so their
 * token caches live as long as the Resolver; a puller looks credentials up once per
 * endpoint, when it first needs that endpoint.
 *
 * A pull falls back to the next endpoint when one fails for any reason but a bad
 * request (InvalidArgument) or an abort: not found, unreachable, refused credentials,
 * rate limited, or content that failed verification. Once an endpoint has served a
 * manifest, it is tried first for everything after (child manifests, blobs), since it
 * is the one known to hold the image. When every endpoint fails, the error names the
 * reference and the registry, keeps the class of the registry's own failure (or the
 * last mirror's), and lists what the mirrors said.
 */
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { realClock, type Clock } from "../../clock/index.js";
import { causeChain, errorClass, FailedPreconditionError, findCause, InvalidArgumentError, type PodyardError } from "../../errdefs/index.js";
import type { Descriptor, Digest } from "../../oci/index.js";
import type { Reference } from "../../reference/index.js";
import type { FetchBlobOptions } from "./blobs.js";
import type { CredentialProvider } from "./credentials/credential-store.js";
import { RegistryHosts, type RegistryEndpoint, type RegistryOperation } from "./hosts.js";
import type { FetchedManifest } from "./manifests.js";
import { RegistryClient } from "./registry-client.js";
import { isNetworkError } from "./retry.js";
import { TokenServerUnreachableError } from "./token.js";
import type { Credentials, FetchLike } from "./types.js";
import type { SchemeProbe } from "./https-first.js";
import type { ClientTimeouts } from "./timeouts.js";
import { wrapError } from "./wrap-error.js";

export interface ResolverOptions {
  /** mirrors and plain-HTTP settings; default: none (every registry reached directly) */
  hosts?: RegistryHosts;
  /** default: anonymous everywhere */
  credentials?: CredentialProvider;
  clock?: Clock;
  /** replaces the clients' own fetch (and with it their timeouts and loopback HTTPS-first) */
  fetch?: FetchLike;
  /**
   * the fetch for endpoints with `skipVerify`: one that does not check TLS certificates
   * (default, when `fetch` is not given either: the clients' own, without the checks)
   */
  insecureFetch?: FetchLike;
  /** for every endpoint (default: DEFAULT_TIMEOUTS, or what the environment says, see timeouts.ts) */
  timeouts?: Partial<ClientTimeouts>;
  /** where the scheme each loopback host speaks is kept (default: one per process) */
  schemeProbe?: SchemeProbe;
  /** attempts per request to a registry itself (default 5) */
  maxAttempts?: number;
  /** attempts per request to a mirror (default 1: a failing mirror is passed over at once) */
  mirrorMaxAttempts?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  userAgent?: string;
}

const NO_CREDENTIALS: CredentialProvider = { lookup: () => Promise.resolve(undefined) };

export class Resolver {
  readonly #opts: ResolverOptions;
  readonly #hosts: RegistryHosts;
  readonly #credentials: CredentialProvider;
  readonly #clients = new Map<string, RegistryClient>();

  constructor(opts: ResolverOptions = {}) {
    this.#opts = opts;
    this.#hosts = opts.hosts ?? new RegistryHosts();
    this.#credentials = opts.credentials ?? NO_CREDENTIALS;
  }

  /**
   * A client that pulls `ref` from the registry's mirrors and the registry itself.
   * `opts.credentials`, when given, are used for the registry's own host for this puller
   * only, instead of those the credential provider has (a pod's pull secret).
   */
  puller(ref: Reference, opts: { credentials?: Credentials } = {}): MultiEndpointClient {
    const host = registryOf(ref);
    const given = opts.credentials;
    return new MultiEndpointClient(ref, {
      endpoints: (op) => this.#hosts.endpoints(host, op),
      client: (ep) => this.client(given !== undefined && ep.credentials === undefined && ep.credentialsHost === host ? { ...ep, credentials: given } : ep),
    });
  }

  /** The client of the registry itself, with its credentials, for pushing `ref`. */
  async pusher(ref: Reference): Promise<RegistryClient> {
    const [upstream] = this.#hosts.endpoints(registryOf(ref), "push");
    if (!upstream) throw new InvalidArgumentError(`push ${ref.toString()}: no endpoint for registry ${ref.domain}`);
    try {
      return await this.client(upstream);
    } catch (err) {
      throw wrapError(err, `push ${ref.toString()}: ${(err as Error).message}`);
    }
  }

  /** The (cached) client of one endpoint, with the credentials found for it now. */
  async client(ep: RegistryEndpoint): Promise<RegistryClient> {
    const creds = ep.credentials ?? (await this.#credentials.lookup(ep.credentialsHost));
    const key = `${ep.baseUrl.href}\n${ep.host}\n${ep.skipVerify}\n${credentialsKey(creds)}`;
    let client = this.#clients.get(key);
    if (client) return client;
    let fetchFn = this.#opts.fetch;
    if (ep.skipVerify) {
      // without either fetch injected, the client's own skips the checks; a caller that injects `fetch` must give this too
      fetchFn = this.#opts.insecureFetch;
      if (!fetchFn && this.#opts.fetch !== undefined) {
        throw new FailedPreconditionError(
          `${ep.mirror ? "mirror" : "registry"} ${ep.host} is configured with skipVerify, but the resolver was given no insecureFetch that skips TLS verification`,
        );
      }
    }
    const timeouts = this.#opts.timeouts ? { timeouts: this.#opts.timeouts } : {};
    const attempts = ep.mirror ? (this.#opts.mirrorMaxAttempts ?? 1) : this.#opts.maxAttempts;
    client = new RegistryClient({
      baseUrl: ep.baseUrl.href,
      host: ep.host,
      clock: this.#opts.clock ?? realClock,
      ...(creds ? { credentials: creds } : {}),
      ...(fetchFn ? { fetch: fetchFn } : { skipVerify: ep.skipVerify, httpsFirst: ep.httpsFirst, ...timeouts }),
      ...(this.#opts.schemeProbe ? { schemeProbe: this.#opts.schemeProbe } : {}),
      ...(attempts !== undefined ? { maxAttempts: attempts } : {}),
      ...(this.#opts.backoff ? { backoff: this.#opts.backoff } : {}),
      ...(this.#opts.userAgent !== undefined ? { userAgent: this.#opts.userAgent } : {}),
    });
    this.#clients.set(key, client);
    return client;
  }
}

function registryOf(ref: Reference): string {
  if (ref.domain === "") throw new InvalidArgumentError(`reference ${JSON.stringify(ref.toString())} names no registry; parse it with parseNormalizedNamed`);
  return ref.domain;
}

/** Tells credentials apart without keeping the password in the key. */
function credentialsKey(c: Credentials | undefined): string {
  if (!c) return "anonymous";
  return createHash("sha256").update(c.username).update("\0").update(c.password).digest("hex");
}

/** What a MultiEndpointClient needs from its Resolver. */
export interface EndpointSource {
  /** the endpoints for an operation, in the order to try */
  endpoints(op: RegistryOperation): RegistryEndpoint[];
  client(ep: RegistryEndpoint): Promise<RegistryClient>;
}

/** The message for an endpoint's failure, with "unreachable" for network errors. */
function describeFailure(ep: RegistryEndpoint, err: unknown): string {
  const who = `${ep.mirror ? "mirror" : "registry"} ${ep.host}`;
  // a token server out of reach is named by its own message: the registry did answer
  if (errorClass(err) === "Unavailable" && err instanceof Error && isNetworkError(err.cause) && !findCause(err, TokenServerUnreachableError)) {
    return `${who} is unreachable: ${systemErrorText(err.cause)}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.includes(ep.host) ? message : `${who}: ${message}`;
}

/** The innermost system error's text: `connect ECONNREFUSED 127.0.0.1:5000`. */
function systemErrorText(err: unknown): string {
  let text = err instanceof Error ? err.message : String(err);
  for (const e of causeChain(err)) {
    const code = "code" in e && typeof e.code === "string" ? e.code : undefined;
    if (code !== undefined) text = e.message !== "" ? e.message : code;
    if (e instanceof AggregateError && e.errors[0] instanceof Error && e.message === "") text = e.errors[0].message || text;
  }
  return text;
}

/**
 * Pulls one reference through several endpoints: each call tries them in order (the
 * endpoint that served the last manifest first) until one succeeds.
 */
export class MultiEndpointClient {
  readonly #ref: Reference;
  readonly #source: EndpointSource;
  /** one client (and one credentials lookup) per endpoint for this puller's life */
  readonly #clients = new Map<string, Promise<RegistryClient>>();
  #served: RegistryEndpoint | undefined;

  constructor(ref: Reference, source: EndpointSource) {
    this.#ref = ref;
    this.#source = source;
  }

  get reference(): Reference {
    return this.#ref;
  }

  /** The endpoint that served the last manifest, blobs are asked from it first. */
  get servedBy(): RegistryEndpoint | undefined {
    return this.#served;
  }

  /** The descriptor of a tag or digest, by default the reference's own (its digest, else its tag, else `latest`). */
  resolve(ref: string = this.#defaultRef()): Promise<Descriptor> {
    return this.#try(ref.includes(":") ? "pull" : "resolve", true, (c) => c.resolve(this.#ref.path, ref));
  }

  /** The verified manifest bytes of a tag or digest, by default the reference's own. */
  getManifest(ref: string = this.#defaultRef()): Promise<FetchedManifest> {
    return this.#try(ref.includes(":") ? "pull" : "resolve", true, (c) => c.getManifest(this.#ref.path, ref));
  }

  /** A verifying stream of a blob of the reference's repository. */
  fetchBlob(digest: Digest, opts: FetchBlobOptions = {}): Promise<Readable> {
    return this.#try("pull", false, (c) => c.fetchBlob(this.#ref.path, digest, opts), opts.signal);
  }

  #defaultRef(): string {
    return this.#ref.digest ?? this.#ref.tag ?? "latest";
  }

  #order(op: RegistryOperation): RegistryEndpoint[] {
    const all = this.#source.endpoints(op);
    const served = this.#served;
    if (!served) return all;
    const i = all.findIndex((e) => e.baseUrl.href === served.baseUrl.href && e.host === served.host);
    if (i <= 0) return all;
    return [all[i] as RegistryEndpoint, ...all.slice(0, i), ...all.slice(i + 1)];
  }

  #client(ep: RegistryEndpoint): Promise<RegistryClient> {
    const key = `${ep.baseUrl.href}\n${ep.host}`;
    let client = this.#clients.get(key);
    if (!client) {
      client = this.#source.client(ep);
      // a failed lookup (a credential helper that timed out) is tried again next time
      client.catch(() => this.#clients.delete(key));
      this.#clients.set(key, client);
    }
    return client;
  }

  async #try<T>(op: RegistryOperation, manifest: boolean, call: (c: RegistryClient) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const failures: { ep: RegistryEndpoint; err: unknown }[] = [];
    for (const ep of this.#order(op)) {
      try {
        const result = await call(await this.#client(ep));
        if (manifest) this.#served = ep;
        return result;
      } catch (err) {
        const cls = errorClass(err);
        if (signal?.aborted || cls === "InvalidArgument" || cls === "Aborted") throw this.#wrap(ep, err, []);
        failures.push({ ep, err });
      }
    }
    const main = failures.find((f) => !f.ep.mirror) ?? failures[failures.length - 1];
    if (!main) throw new InvalidArgumentError(`pull ${this.#ref.toString()}: no endpoint for registry ${this.#ref.domain}`);
    throw this.#wrap(main.ep, main.err, failures.filter((f) => f !== main));
  }

  #wrap(ep: RegistryEndpoint, err: unknown, others: { ep: RegistryEndpoint; err: unknown }[]): PodyardError {
    const also = others.length > 0 ? ` (also tried ${others.map((o) => describeFailure(o.ep, o.err)).join("; ")})` : "";
    return wrapError(err, `pull ${this.#ref.toString()}: ${describeFailure(ep, err)}${also}`);
  }
}
