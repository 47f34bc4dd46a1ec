/**
 * Docker's client configuration, `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`),
 * as a source of registry credentials:
 * - `auths`: per registry, base64 `auth` of `user:pass`, or `username`/`password`, or an
 *   `identitytoken` (a refresh token from `docker login`, kept as user `<token>`);
 * - `credHelpers`: per registry, the credential helper that holds its credentials;
 * - `credsStore`: the helper for every other registry.
 * Lookup order for a host: its credHelper, then credsStore, then auths; a helper without
 * credentials for the host passes on to the next.
 *
 * Keys may be URLs or carry paths (`https://index.docker.io/v1/`, `http://host:port`,
 * `host:port/path`); like Docker, only the host part is compared, and Docker Hub's names
 * (`docker.io`, `index.docker.io`, `registry-1.docker.io`, `registry.hub.docker.com`) are one registry.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError } from "../../../errdefs/index.js";
import { DOCKER_HUB_HOST, isDockerHub } from "../endpoint.js";
import { IDENTITY_TOKEN_USERNAME } from "../token.js";
import { wrapError } from "../wrap-error.js";
import type { Credentials } from "../types.js";
import { CredentialHelper } from "./credential-helper.js";
import type { CredentialProvider } from "./credential-store.js";

/** The key `docker login` files Docker Hub's credentials under. */
export const DOCKER_HUB_AUTH_KEY = "https://index.docker.io/v1/";

/** One entry of `auths`. */
export interface DockerAuthEntry {
  /** base64 of `username:password` */
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
  email?: string;
}

/** The parts of config.json that hold credentials. */
export interface DockerConfig {
  auths: Record<string, DockerAuthEntry>;
  credsStore?: string;
  credHelpers: Record<string, string>;
}

/** `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== "" ? env.DOCKER_CONFIG : join(homedir(), ".docker");
  return join(dir, "config.json");
}

/**
 * The registry a config key names, as lookups compare it: scheme and path dropped,
 * lower-cased, Docker Hub's aliases as `docker.io`.
 * `https://index.docker.io/v1/` → `docker.io`; `http://127.0.0.1:5000` → `127.0.0.1:5000`; `quay.io/org` → `quay.io`.
 */
export function registryKeyHost(key: string): string {
  let rest = key.trim();
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const host = (rest.split("/")[0] ?? "").toLowerCase();
  return isDockerHub(host) ? DOCKER_HUB_HOST : host;
}

/**
 * The key of `keys` holding `host`'s credentials: an exact key first, then Docker Hub's
 * `https://index.docker.io/v1/` for Hub, then the first key naming the same registry.
 */
export function findRegistryKey(keys: Iterable<string>, host: string): string | undefined {
  const list = [...keys];
  const want = registryKeyHost(host);
  if (list.includes(host)) return host;
  if (want === DOCKER_HUB_HOST && list.includes(DOCKER_HUB_AUTH_KEY)) return DOCKER_HUB_AUTH_KEY;
  return list.find((k) => registryKeyHost(k) === want);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Validates config.json text (`source` names it in errors); unknown fields are ignored. */
export function parseDockerConfig(text: string, source: string): DockerConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`docker config ${source}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isRecord(json)) throw new InvalidArgumentError(`docker config ${source}: want a JSON object`);
  const out: DockerConfig = { auths: {}, credHelpers: {} };
  if (json.auths !== undefined) {
    if (!isRecord(json.auths)) throw new InvalidArgumentError(`docker config ${source}: auths: want an object keyed by registry`);
    for (const [key, entry] of Object.entries(json.auths)) {
      if (!isRecord(entry)) throw new InvalidArgumentError(`docker config ${source}: auths[${JSON.stringify(key)}]: want an object`);
      const e: DockerAuthEntry = {};
      for (const field of ["auth", "username", "password", "identitytoken", "registrytoken", "email"] as const) {
        const v = entry[field];
        if (v === undefined || v === null) continue;
        if (typeof v !== "string") throw new InvalidArgumentError(`docker config ${source}: auths[${JSON.stringify(key)}].${field}: want a string`);
        e[field] = v;
      }
      out.auths[key] = e;
    }
  }
  if (json.credsStore !== undefined && json.credsStore !== "") {
    if (typeof json.credsStore !== "string") throw new InvalidArgumentError(`docker config ${source}: credsStore: want a helper name`);
    out.credsStore = json.credsStore;
  }
  if (json.credHelpers !== undefined) {
    if (!isRecord(json.credHelpers)) throw new InvalidArgumentError(`docker config ${source}: credHelpers: want an object of registry → helper name`);
    for (const [key, name] of Object.entries(json.credHelpers)) {
      if (typeof name !== "string" || name === "") throw new InvalidArgumentError(`docker config ${source}: credHelpers[${JSON.stringify(key)}]: want a helper name`);
      out.credHelpers[key] = name;
    }
  }
  return out;
}

/** Reads config.json; a missing file is an empty configuration. */
export async function readDockerConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { auths: {}, credHelpers: {} };
    throw new InvalidArgumentError(`docker config ${path}: cannot read it: ${(err as Error).message}`, { cause: err });
  }
  return parseDockerConfig(text, path);
}

/**
 * The credentials of an `auths` entry: an identity token wins (as user `<token>`), then
 * `auth` (base64 `user:pass`, split at the first colon), then `username`/`password`.
 * Undefined for an entry without credentials (what `docker login` leaves next to a credsStore).
 */
export function decodeAuthEntry(entry: DockerAuthEntry, where = "auth entry"): Credentials | undefined {
  if (entry.identitytoken !== undefined && entry.identitytoken !== "") return { username: IDENTITY_TOKEN_USERNAME, password: entry.identitytoken };
  if (entry.auth !== undefined && entry.auth !== "") {
    const b64 = entry.auth.trim();
    const decoded = /^[A-Za-z0-9+/]*={0,2}$/.test(b64) ? Buffer.from(b64, "base64").toString("utf8") : "";
    const colon = decoded.indexOf(":");
    if (colon < 0) throw new InvalidArgumentError(`${where}: unable to parse auth field, must be formatted as base64(username:password)`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.username !== "" && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

export interface DockerConfigProviderOptions {
  /** the config file; default `dockerConfigPath()` */
  path?: string;
  /** the environment helpers run with (and DOCKER_CONFIG is read from); default `process.env` */
  env?: NodeJS.ProcessEnv;
  /** how long a credential helper may take; default 30 s */
  helperTimeoutMs?: number;
}

/** Credentials from Docker's config.json, read afresh on each lookup (so a `docker login` shows at once). */
export class DockerConfigProvider implements CredentialProvider {
  readonly #path: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number | undefined;

  constructor(opts: DockerConfigProviderOptions = {}) {
    this.#env = opts.env ?? process.env;
    this.#path = opts.path ?? dockerConfigPath(this.#env);
    this.#timeoutMs = opts.helperTimeoutMs;
  }

  get path(): string {
    return this.#path;
  }

  async lookup(host: string): Promise<Credentials | undefined> {
    const config = await readDockerConfig(this.#path);
    const authKey = findRegistryKey(Object.keys(config.auths), host);
    // helpers are asked with the key `docker login` used: Hub's URL, else the host
    const serverUrl = authKey ?? (registryKeyHost(host) === DOCKER_HUB_HOST ? DOCKER_HUB_AUTH_KEY : host);
    const helperKey = findRegistryKey(Object.keys(config.credHelpers), host);
    const helpers: { name: string; field: string }[] = [];
    if (helperKey !== undefined) helpers.push({ name: config.credHelpers[helperKey] ?? "", field: `credHelpers[${JSON.stringify(helperKey)}]` });
    if (config.credsStore !== undefined) helpers.push({ name: config.credsStore, field: "credsStore" });
    for (const { name, field } of helpers) {
      const opts = { env: this.#env, ...(this.#timeoutMs !== undefined ? { timeoutMs: this.#timeoutMs } : {}) };
      let creds: Credentials | undefined;
      try {
        creds = await new CredentialHelper(name, opts).get(serverUrl);
      } catch (err) {
        throw wrapError(err, `docker config ${this.#path}: ${field}: ${(err as Error).message}`);
      }
      if (creds) return creds;
    }
    if (authKey === undefined) return undefined;
    return decodeAuthEntry(config.auths[authKey] ?? {}, `docker config ${this.#path}: auths[${JSON.stringify(authKey)}]`);
  }
}
