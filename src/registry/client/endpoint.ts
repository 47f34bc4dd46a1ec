/**
 * Where a registry host's API lives: Docker Hub's `docker.io` is served from
 * `https://registry-1.docker.io`, loopback registries at plain HTTP, tried over HTTPS
 * first (as Docker treats 127.0.0.0/8, see https-first.ts), everything else HTTPS.
 */
import { InvalidArgumentError } from "../../errdefs/index.js";

export const DOCKER_HUB_HOST = "docker.io";
export const DOCKER_HUB_API = "https://registry-1.docker.io";
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

/** The host without its port: `127.0.0.1:5000` → `127.0.0.1`, `[::1]:5000` → `::1`. */
export function hostname(host: string): string {
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]") === -1 ? undefined : host.indexOf("]"));
  const colon = host.lastIndexOf(":");
  return colon === -1 ? host : host.slice(0, colon);
}

/** localhost, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = hostname(host).toLowerCase();
  if (name === "localhost" || name.endsWith(".localhost") || name === "::1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

export function isDockerHub(host: string): boolean {
  return DOCKER_HUB_ALIASES.has(hostname(host).toLowerCase());
}

/**
 * The base URL of a registry's API. `insecure` picks plain HTTP; when it is not
 * given, loopback hosts use HTTP and all others HTTPS.
 */
export function registryBaseUrl(host: string, opts: { insecure?: boolean } = {}): URL {
  if (host === "" || /[/?#@\s]/.test(host)) throw new InvalidArgumentError(`invalid registry host ${JSON.stringify(host)}: want host[:port]`);
  if (isDockerHub(host)) return new URL(DOCKER_HUB_API);
  const scheme = (opts.insecure ?? isLoopbackHost(host)) ? "http" : "https";
  return new URL(`${scheme}://${host}`);
}

/**
 * True when `host`'s requests try HTTPS (certificate not checked) before the plain HTTP
 * of its base URL: a loopback host, unless `insecure` says which scheme it speaks.
 */
export function httpsFirst(host: string, opts: { insecure?: boolean } = {}): boolean {
  return opts.insecure === undefined && isLoopbackHost(host) && !isDockerHub(host);
}

/** Docker Hub keeps official images under `library/`: `alpine` → `library/alpine`. */
export function dockerHubRepository(name: string): string {
  return name.includes("/") ? name : `library/${name}`;
}
