/**
 * HTTPS first for loopback registries, then plain HTTP: docker treats 127.0.0.0/8 as an
 * insecure registry (HTTPS without certificate checks, then HTTP) and containerd falls
 * back to HTTP for localhost when the TLS handshake fails. podyard does the same.
 *
 * Which scheme a host speaks is found once, by a TLS handshake whose certificate is not
 * checked (SchemeProbe): a handshake that completes means HTTPS; one the server answers
 * with something else or cuts (a plain-HTTP server answers 400 and closes) means plain
 * HTTP, and so does a refused connection to 443 when the host names no port (HTTP is on
 * 80). A refused connection to the port given, or a timeout, decides nothing: the request
 * fails as unreachable, and the next request probes again. The answer is kept for the
 * probe's life (the process, for the default one), so a pull from a plain-HTTP registry
 * costs one failed handshake per host, on the first request only.
 */
import { isIP } from "node:net";
import { connect } from "node:tls";
import { fetchFailed } from "./plain-response.js";
import { timeoutError } from "./timeouts.js";
import type { FetchLike } from "./types.js";

export type Scheme = "http" | "https";

/** What each host:port speaks, found by one TLS handshake per host (see above). */
export class SchemeProbe {
  readonly #known = new Map<string, Scheme>();
  readonly #pending = new Map<string, Promise<Scheme>>();

  /** The scheme found for `host` (host[:port]), if one was. */
  known(host: string): Scheme | undefined {
    return this.#known.get(host);
  }

  /** Finds which scheme `host` speaks (one handshake at a time per host), or rejects with why it could not. */
  scheme(host: string, connectMs: number): Promise<Scheme> {
    const known = this.#known.get(host);
    if (known) return Promise.resolve(known);
    let pending = this.#pending.get(host);
    if (!pending) {
      pending = handshake(host, connectMs).then(
        (s) => {
          this.#known.set(host, s);
          this.#pending.delete(host);
          return s;
        },
        (err: unknown) => {
          this.#pending.delete(host);
          throw err;
        },
      );
      this.#pending.set(host, pending);
    }
    return pending;
  }
}

/** The probe RegistryClients share unless given one: one per process. */
export const defaultSchemeProbe = new SchemeProbe();

function handshake(host: string, connectMs: number): Promise<Scheme> {
  const url = new URL(`https://${host}`);
  const name = url.hostname.replace(/^\[|\]$/g, "");
  const portGiven = url.port !== "";
  return new Promise<Scheme>((resolve, reject) => {
    let tcp = false;
    const socket = connect({
      host: name,
      port: Number(url.port || 443),
      rejectUnauthorized: false,
      ALPNProtocols: ["http/1.1"],
      ...(isIP(name) === 0 ? { servername: name } : {}),
    });
    const done = (result: Scheme | Error): void => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on("error", () => undefined); // late errors of a socket being destroyed
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    const timer = setTimeout(() => done(timeoutError(host, tcp ? "tls" : "connect", connectMs)), connectMs);
    socket.once("connect", () => {
      tcp = true;
    });
    socket.once("secureConnect", () => done("https"));
    // the server spoke, or hung up, but not TLS: plain HTTP; no connection at all: nothing learnt (unless HTTP is on another port)
    socket.once("error", (err) => done(tcp || !portGiven ? "http" : err));
    socket.once("close", () => done(tcp || !portGiven ? "http" : new Error(`connection to ${host} closed`)));
  });
}

export interface HttpsFirstOptions {
  /** the registry's host[:port]: requests to it are sent as the probe finds */
  host: string;
  /** for plain HTTP, and for every other origin */
  http: FetchLike;
  /** for the registry over HTTPS (loopback: certificates are not checked) */
  https: FetchLike;
  probe: SchemeProbe;
  connectMs: number;
}

/**
 * A fetch that sends the registry's `http:` requests over HTTPS when its host speaks it
 * (see above), and its `https:` ones (upload Locations, redirects) without certificate checks.
 */
export function httpsFirstFetch(opts: HttpsFirstOptions): FetchLike {
  const { host, http, https, probe } = opts;
  const secure = (url: URL): URL => {
    const out = new URL(url.href);
    out.protocol = "https:";
    return out;
  };
  return (input, init) => {
    const url = new URL(input instanceof URL ? input.href : input);
    if (url.host !== host) return http(url, init);
    if (url.protocol === "https:") return https(url, init); // an absolute Location the registry gave
    const known = probe.known(host);
    if (known === "http") return http(url, init);
    if (known === "https") return https(secure(url), init);
    return probe.scheme(host, opts.connectMs).then(
      (s) => (s === "https" ? https(secure(url), init) : http(url, init)),
      (err: unknown) => Promise.reject(fetchFailed(err)),
    );
  };
}
