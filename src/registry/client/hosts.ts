/**
 * Registry hosts: where each registry's API is reached (containerd's hosts.toml, as
 * JSON in `$PODYARD_HOME/hosts.json`). The file maps a registry host, as image
 * references name it, to its settings:
 *
 * ```json
 * {
 *   "docker.io": {
 *     "mirrors": [
 *       { "url": "https://mirror.example.com", "capabilities": ["pull", "resolve"] },
 *       { "url": "127.0.0.1:5001", "credentials": { "username": "ci", "password": "…" } }
 *     ]
 *   },
 *   "registry.internal:5000": { "insecure": true }
 * }
 * ```
 *
 * Pulls try the mirrors in order, then the registry itself (the upstream); pushes go to
 * the upstream only. A mirror with `resolve` may turn tags into digests, one with `pull`
 * serves content by digest. `insecure` means plain HTTP (for a mirror URL given without a
 * scheme); `skipVerify` turns off TLS certificate checks. Without settings, `localhost`,
 * 127.0.0.0/8 and ::1 are tried over HTTPS first, certificates not checked, then plain
 * HTTP (`insecure: true` means HTTP only, `insecure: false` HTTPS only), everything else
 * speaks HTTPS, and `docker.io` is reached at https://registry-1.docker.io.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError } from "../../errdefs/index.js";
import { DOCKER_HUB_HOST, httpsFirst, isDockerHub, isLoopbackHost, registryBaseUrl } from "./endpoint.js";
import { podyardHome } from "../../fsutil/index.js";
import { IDENTITY_TOKEN_USERNAME } from "./token.js";
import type { Credentials } from "./types.js";

/** What an endpoint may be used for: turning tags into digests, fetching by digest, pushing. */
export type RegistryCapability = "resolve" | "pull" | "push";
/** What a caller is about to do. */
export type RegistryOperation = RegistryCapability;

export interface MirrorConfig {
  /** `https://host[:port]`, `http://host[:port]` or `host[:port]` (HTTPS; HTTP when insecure; loopback: HTTPS first, then HTTP) */
  url: string;
  /** default ["pull", "resolve"] */
  capabilities?: ("pull" | "resolve")[];
  /** plain HTTP when the URL has no scheme */
  insecure?: boolean;
  /** do not verify the TLS certificate */
  skipVerify?: boolean;
  /** credentials for this mirror; without them the mirror host's are looked up */
  credentials?: { username: string; password: string } | { identityToken: string };
}

export interface HostConfig {
  /** tried in order before the registry itself, for pulls */
  mirrors?: MirrorConfig[];
  /** plain HTTP to the registry itself */
  insecure?: boolean;
  /** do not verify the registry's TLS certificate */
  skipVerify?: boolean;
}

/** The whole file: settings per registry host. */
export type HostsConfig = Record<string, HostConfig>;

export interface RegistryEndpoint {
  /** where the API lives: `https://registry-1.docker.io`, `http://127.0.0.1:5001` */
  baseUrl: URL;
  /** the name messages use: the registry host, or the mirror's host[:port] */
  host: string;
  mirror: boolean;
  /** the host whose credentials to look up when `credentials` is not set */
  credentialsHost: string;
  capabilities: RegistryCapability[];
  skipVerify: boolean;
  /** try HTTPS (certificate not checked) before `baseUrl`'s plain HTTP: loopback hosts without `insecure` */
  httpsFirst: boolean;
  /** credentials given in the hosts configuration */
  credentials?: Credentials;
}

/** `$PODYARD_HOME/hosts.json`. */
export function defaultHostsPath(): string {
  return join(podyardHome(), "hosts.json");
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?$/;

/** The settings key a registry host is filed under: lower-cased, Docker Hub's aliases as `docker.io`. */
function hostKey(host: string): string {
  const lower = host.toLowerCase();
  return isDockerHub(lower) ? DOCKER_HUB_HOST : lower;
}

interface CheckedMirror {
  baseUrl: URL;
  capabilities: ("pull" | "resolve")[];
  skipVerify: boolean;
  httpsFirst: boolean;
  credentials?: Credentials;
}

interface Checked {
  mirrors: CheckedMirror[];
  insecure?: boolean;
  skipVerify: boolean;
}

class Checker {
  constructor(readonly source: string) {}

  fail(field: string, why: string): InvalidArgumentError {
    return new InvalidArgumentError(`hosts configuration ${this.source}: ${field}: ${why}`);
  }

  fields(v: Record<string, unknown>, allowed: readonly string[], where: string): void {
    for (const k of Object.keys(v)) {
      if (!allowed.includes(k)) throw this.fail(`${where}.${k}`, `unknown field; known fields are ${allowed.join(", ")}`);
    }
  }

  bool(v: unknown, field: string): boolean | undefined {
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") throw this.fail(field, `want true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  host(key: string): void {
    if (!HOST.test(key)) throw this.fail(JSON.stringify(key), "want a registry host such as \"docker.io\" or \"127.0.0.1:5000\", without scheme or path");
  }

  /** The mirror's base URL, and whether HTTPS is tried before it (a loopback host given without scheme). */
  mirrorUrl(raw: unknown, insecure: boolean | undefined, field: string): { url: URL; httpsFirst: boolean } {
    if (typeof raw !== "string" || raw === "") throw this.fail(field, "want a URL such as \"https://mirror.example.com\" or \"127.0.0.1:5001\"");
    const hasScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw);
    let url: URL;
    let first = false;
    try {
      if (hasScheme) url = new URL(raw);
      else {
        const host = raw.replace(/\/+$/, "");
        first = httpsFirst(host, insecure === undefined ? {} : { insecure });
        url = new URL(`${(insecure ?? isLoopbackHost(host)) ? "http" : "https"}://${host}`);
      }
    } catch {
      throw this.fail(field, `${JSON.stringify(raw)} is not a valid URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw this.fail(field, `${JSON.stringify(raw)} is not an http(s) URL`);
    if (url.username !== "" || url.password !== "") throw this.fail(field, "credentials do not belong in the URL; use \"credentials\"");
    if (url.search !== "" || url.hash !== "") throw this.fail(field, `${JSON.stringify(raw)} has a query or fragment`);
    if (url.pathname !== "/" && url.pathname !== "/v2" && url.pathname !== "/v2/") {
      throw this.fail(field, `${JSON.stringify(raw)} has a path; mirrors serve the API at /v2/ of their host`);
    }
    return { url: new URL(`${url.protocol}//${url.host}`), httpsFirst: first };
  }

  credentials(v: unknown, field: string): Credentials | undefined {
    if (v === undefined) return undefined;
    if (!isRecord(v)) throw this.fail(field, "want {\"username\", \"password\"} or {\"identityToken\"}");
    if ("identityToken" in v) {
      this.fields(v, ["identityToken"], field);
      if (typeof v.identityToken !== "string" || v.identityToken === "") throw this.fail(`${field}.identityToken`, "want a non-empty string");
      return { username: IDENTITY_TOKEN_USERNAME, password: v.identityToken };
    }
    this.fields(v, ["username", "password"], field);
    if (typeof v.username !== "string" || v.username === "") throw this.fail(`${field}.username`, "want a non-empty string");
    if (typeof v.password !== "string") throw this.fail(`${field}.password`, "want a string");
    return { username: v.username, password: v.password };
  }

  hostConfig(key: string, v: unknown): Checked {
    const where = JSON.stringify(key);
    this.host(key);
    if (!isRecord(v)) throw this.fail(where, "want an object with mirrors, insecure, skipVerify");
    this.fields(v, ["mirrors", "insecure", "skipVerify"], where);
    const out: Checked = { mirrors: [], skipVerify: this.bool(v.skipVerify, `${where}.skipVerify`) ?? false };
    const insecure = this.bool(v.insecure, `${where}.insecure`);
    if (insecure !== undefined) out.insecure = insecure;
    if (v.mirrors === undefined) return out;
    if (!Array.isArray(v.mirrors)) throw this.fail(`${where}.mirrors`, "want a list of mirrors");
    for (const [i, m] of (v.mirrors as unknown[]).entries()) {
      const field = `${where}.mirrors[${i}]`;
      if (!isRecord(m)) throw this.fail(field, "want an object with url");
      this.fields(m, ["url", "capabilities", "insecure", "skipVerify", "credentials"], field);
      const mirrorInsecure = this.bool(m.insecure, `${field}.insecure`);
      const { url: baseUrl, httpsFirst: first } = this.mirrorUrl(m.url, mirrorInsecure, `${field}.url`);
      let capabilities: ("pull" | "resolve")[] = ["pull", "resolve"];
      if (m.capabilities !== undefined) {
        if (!Array.isArray(m.capabilities) || m.capabilities.length === 0) throw this.fail(`${field}.capabilities`, "want a non-empty list of \"pull\", \"resolve\"");
        capabilities = (m.capabilities as unknown[]).map((c, j) => {
          if (c === "pull" || c === "resolve") return c;
          const why = c === "push" ? "mirrors do not take pushes; pushes go to the registry itself" : "want \"pull\" or \"resolve\"";
          throw this.fail(`${field}.capabilities[${j}]`, `${JSON.stringify(c)}: ${why}`);
        });
      }
      const credentials = this.credentials(m.credentials, `${field}.credentials`);
      out.mirrors.push({
        baseUrl,
        capabilities,
        skipVerify: this.bool(m.skipVerify, `${field}.skipVerify`) ?? false,
        httpsFirst: first,
        ...(credentials ? { credentials } : {}),
      });
    }
    return out;
  }
}

/** The endpoints of every registry host, from a validated hosts configuration. */
export class RegistryHosts {
  readonly #hosts = new Map<string, Checked>();

  /** Validates `config`; `source` (a file path) names it in errors. */
  constructor(config: HostsConfig = {}, opts: { source?: string } = {}) {
    const checker = new Checker(opts.source ?? "(given)");
    if (!isRecord(config)) throw checker.fail("(top level)", "want an object keyed by registry host");
    for (const [key, value] of Object.entries(config)) {
      const k = hostKey(key);
      if (this.#hosts.has(k)) throw checker.fail(JSON.stringify(key), `names the same registry as another entry (${k})`);
      this.#hosts.set(k, checker.hostConfig(key, value));
    }
  }

  /** Parses hosts.json text; `source` names it in errors. */
  static parse(text: string, source: string): RegistryHosts {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new InvalidArgumentError(`hosts configuration ${source}: not valid JSON: ${(err as Error).message}`, { cause: err });
    }
    if (!isRecord(json)) throw new InvalidArgumentError(`hosts configuration ${source}: want an object keyed by registry host`);
    return new RegistryHosts(json as HostsConfig, { source });
  }

  /**
   * Reads a hosts file. Without `path` it reads `$PODYARD_HOME/hosts.json`, and a missing
   * file means no settings; a `path` given must exist.
   */
  static async load(path?: string): Promise<RegistryHosts> {
    const file = path ?? defaultHostsPath();
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && path === undefined) return new RegistryHosts();
      if (code === "ENOENT") throw new NotFoundError(`hosts configuration ${file} does not exist`, { cause: err });
      throw new InvalidArgumentError(`hosts configuration ${file}: cannot read it: ${(err as Error).message}`, { cause: err });
    }
    return RegistryHosts.parse(text, file);
  }

  /**
   * Where to send `op` for registry `host`, in the order to try: the mirrors able to do
   * it, then the registry itself. Pushes go to the registry only.
   */
  endpoints(host: string, op: RegistryOperation): RegistryEndpoint[] {
    const settings = this.#hosts.get(hostKey(host));
    const out: RegistryEndpoint[] = [];
    if (op !== "push") {
      for (const m of settings?.mirrors ?? []) {
        if (!m.capabilities.includes(op)) continue;
        out.push({
          baseUrl: new URL(m.baseUrl.href),
          host: m.baseUrl.host,
          mirror: true,
          credentialsHost: m.baseUrl.host,
          capabilities: [...m.capabilities],
          skipVerify: m.skipVerify,
          httpsFirst: m.httpsFirst,
          ...(m.credentials ? { credentials: { ...m.credentials } } : {}),
        });
      }
    }
    const scheme = settings?.insecure !== undefined ? { insecure: settings.insecure } : {};
    out.push({
      baseUrl: registryBaseUrl(host, scheme),
      host,
      mirror: false,
      credentialsHost: host,
      capabilities: ["resolve", "pull", "push"],
      skipVerify: settings?.skipVerify ?? false,
      httpsFirst: httpsFirst(host, scheme),
    });
    return out;
  }
}
