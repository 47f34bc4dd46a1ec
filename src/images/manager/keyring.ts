/**
 * Registry credentials the kubelet finds for an image (pkg/credentialprovider): entries from
 * docker config files and from the pod's pull secrets, keyed by normalised registry URL, matched
 * against the image's repository with per-label globs, pod secrets first, then the node's.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Secret } from "../../api/index.js";
import { errorMessage, InvalidArgumentError } from "../../errdefs/index.js";

/** One registry login (config.go `DockerConfigEntry`); `auth` is decoded into username and password. */
export interface DockerConfigEntry {
  username: string;
  password: string;
  email?: string;
}

/** Registry (as written: `https://index.docker.io/v1/`, `quay.io`, `*.example.com`) → login. */
export type DockerConfig = Record<string, DockerConfigEntry>;

/** The pull secret a credential came from. */
export interface SecretCoordinates {
  uid: string;
  namespace: string;
  name: string;
}

/** A credential with where it came from: a pod's secret, or (no source) the node. */
export interface TrackedAuthConfig {
  username: string;
  password: string;
  email?: string;
  /** sha256 hex of the credential's JSON: equal logins in different secrets compare equal. */
  authConfigHash: string;
  source?: { secret: SecretCoordinates };
}

export interface DockerKeyring {
  /** Every credential whose key matches `image` (a normalised repository, `docker.io/library/nginx`), in key order. */
  lookup(image: string): TrackedAuthConfig[];
}

const AUTH_PARSE_ERROR = "unable to parse auth field, must be formatted as base64(username:password)";

/** Decodes one entry as `DockerConfigEntry.UnmarshalJSON` does: a non-empty `auth` overrides username and password. */
export function parseDockerConfigEntry(raw: unknown): DockerConfigEntry {
  const o = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  const str = (k: string): string => (typeof o[k] === "string" ? o[k] : "");
  const entry: DockerConfigEntry = { username: str("username"), password: str("password") };
  if (str("email") !== "") entry.email = str("email");
  const auth = str("auth");
  if (auth === "") return entry;
  // Go decodes with StdEncoding when padded, RawStdEncoding otherwise; both reject stray characters.
  const padded = auth.endsWith("=");
  const valid = padded ? /^[A-Za-z0-9+/]*={1,2}$/.test(auth) && auth.length % 4 === 0 : /^[A-Za-z0-9+/]*$/.test(auth) && auth.length % 4 !== 1;
  if (!valid) throw new InvalidArgumentError(AUTH_PARSE_ERROR);
  const decoded = Buffer.from(auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw new InvalidArgumentError(AUTH_PARSE_ERROR);
  entry.username = decoded.slice(0, colon);
  entry.password = decoded.slice(colon + 1);
  return entry;
}

/** A `{registry: entry}` map (the `.dockercfg` shape). */
export function parseDockerConfigMap(raw: unknown): DockerConfig {
  const out: DockerConfig = {};
  if (typeof raw !== "object" || raw === null) return out;
  for (const [registry, entry] of Object.entries(raw)) out[registry] = parseDockerConfigEntry(entry);
  return out;
}

function decodeSecretValue(secret: Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  if (data !== undefined && data !== "") return Buffer.from(data, "base64").toString("utf8");
  const plain = secret.stringData?.[key];
  return plain !== undefined && plain !== "" ? plain : undefined;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${what}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * The logins of a pull secret: `kubernetes.io/dockerconfigjson` (`.dockerconfigjson`, `{"auths": …}`)
 * or `kubernetes.io/dockercfg` (`.dockercfg`, the bare map); undefined for other types or an empty key.
 */
export function dockerConfigFromSecret(secret: Secret): DockerConfig | undefined {
  const where = `pull secret ${secret.metadata?.namespace ?? ""}/${secret.metadata?.name ?? ""}`;
  if (secret.type === "kubernetes.io/dockerconfigjson") {
    const text = decodeSecretValue(secret, ".dockerconfigjson");
    if (text === undefined) return undefined;
    const parsed = parseJson(text, where) as { auths?: unknown };
    return parseDockerConfigMap(parsed.auths);
  }
  if (secret.type === "kubernetes.io/dockercfg") {
    const text = decodeSecretValue(secret, ".dockercfg");
    if (text === undefined) return undefined;
    return parseDockerConfigMap(parseJson(text, where));
  }
  return undefined;
}

/** keyring.go `hashAuthConfig`: sha256 hex of the login's JSON (Go field order, empty fields left out). */
export function hashAuthConfig(entry: DockerConfigEntry): string {
  const o: Record<string, string> = {};
  if (entry.username !== "") o.username = entry.username;
  if (entry.password !== "") o.password = entry.password;
  if (entry.email !== undefined && entry.email !== "") o.email = entry.email;
  return createHash("sha256").update(JSON.stringify(o)).digest("hex");
}

/** A schemeless URL's host and path, as Go's url.Parse("https://" + s) splits them. */
function splitSchemeless(s: string): { host: string; path: string } {
  const rest = s.replace(/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//, "");
  const end = rest.search(/[?#]/);
  const noQuery = end < 0 ? rest : rest.slice(0, end);
  const slash = noQuery.indexOf("/");
  const authority = slash < 0 ? noQuery : noQuery.slice(0, slash);
  const at = authority.lastIndexOf("@");
  return { host: at < 0 ? authority : authority.slice(at + 1), path: slash < 0 ? "" : noQuery.slice(slash) };
}

/** The key `Add` files a registry under: scheme dropped, `/v1/` or `/v2/` dropped, host alone when the path is empty or `/`. */
export function normalizeRegistryKey(registry: string): string {
  const { host, path } = splitSchemeless(registry);
  const effective = path.startsWith("/v2/") || path.startsWith("/v1/") ? path.slice(3) : path;
  return effective.length > 0 && effective !== "/" ? host + effective : host;
}

function splitHostPort(host: string): { labels: string[]; port: string } {
  const m = /^(.*):(\d*)$/.exec(host);
  const name = m && !m[1]?.includes(":") ? (m[1] ?? "") : host;
  return { labels: name.split("."), port: m && !m[1]?.includes(":") ? (m[2] ?? "") : "" };
}

/** Go `filepath.Match` for one host label: `*`, `?`, `[...]` classes, `\` escapes. */
function globMatch(pattern: string, name: string): boolean {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i] ?? ""}`;
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) return false; // Go reports ErrBadPattern; the keyring treats it as no match
      let cls = pattern.slice(i + 1, close);
      if (cls.startsWith("^")) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|]/g, "\\$&");
  }
  try {
    return new RegExp(`${re}$`).test(name);
  } catch {
    return false;
  }
}

/** `URLsMatchStr(glob, target)`: same port, same label count, each label glob-matches, and the target's path starts with the glob's. */
export function urlsMatch(glob: string, target: string): boolean {
  const g = splitSchemeless(glob);
  const t = splitSchemeless(target);
  const gh = splitHostPort(g.host);
  const th = splitHostPort(t.host);
  if (gh.port !== th.port || gh.labels.length !== th.labels.length) return false;
  if (!t.path.startsWith(g.path)) return false;
  return gh.labels.every((label, i) => globMatch(label, th.labels[i] ?? ""));
}

/** Whether `image` lives on Docker Hub, so that credentials filed under `index.docker.io` apply to it. */
export function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf("/");
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first === "") return false;
  if (slash < 0) return true;
  if (first === "docker.io" || first === "index.docker.io") return true;
  return !/[.:]/.test(first);
}

const DEFAULT_REGISTRY_HOST = "index.docker.io";

/** keyring.go `BasicDockerKeyring`. */
export class BasicDockerKeyring implements DockerKeyring {
  #index: string[] = [];
  readonly #creds = new Map<string, TrackedAuthConfig[]>();

  /** Files each login of `config` under its normalised key; `source` names the secret (none for the node). */
  add(config: DockerConfig, source?: { secret: SecretCoordinates }): void {
    for (const [registry, entry] of Object.entries(config)) {
      const key = normalizeRegistryKey(registry);
      const tracked: TrackedAuthConfig = { username: entry.username, password: entry.password, authConfigHash: hashAuthConfig(entry) };
      if (entry.email !== undefined) tracked.email = entry.email;
      if (source !== undefined) tracked.source = source;
      const list = this.#creds.get(key) ?? [];
      list.push(tracked);
      this.#creds.set(key, list);
      this.#index.push(key);
    }
    // More specific paths first: reverse lexicographic order of the unique keys.
    this.#index = [...new Set(this.#index)].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
  }

  lookup(image: string): TrackedAuthConfig[] {
    const out: TrackedAuthConfig[] = [];
    for (const key of this.#index) if (urlsMatch(key, image)) out.push(...(this.#creds.get(key) ?? []));
    if (out.length > 0) return out;
    if (isDefaultRegistryMatch(image)) return [...(this.#creds.get(DEFAULT_REGISTRY_HOST) ?? [])];
    return [];
  }
}

/** Several keyrings asked in order, their answers joined. */
export class UnionDockerKeyring implements DockerKeyring {
  readonly #keyrings: DockerKeyring[];
  constructor(keyrings: DockerKeyring[]) {
    this.#keyrings = keyrings;
  }
  lookup(image: string): TrackedAuthConfig[] {
    return this.#keyrings.flatMap((k) => k.lookup(image));
  }
}

/**
 * secrets.go `MakeDockerKeyring`: the pod's pull secrets (in order) before the node's keyring.
 * A secret whose JSON does not parse fails the lookup.
 */
export function makeDockerKeyring(pullSecrets: Secret[], nodeKeyring: DockerKeyring): DockerKeyring {
  const pod = new BasicDockerKeyring();
  let any = false;
  for (const secret of pullSecrets) {
    const config = dockerConfigFromSecret(secret);
    if (config === undefined) continue;
    const coords: SecretCoordinates = { uid: secret.metadata?.uid ?? "", namespace: secret.metadata?.namespace ?? "", name: secret.metadata?.name ?? "" };
    pod.add(config, { secret: coords });
    any = true;
  }
  return any ? new UnionDockerKeyring([pod, nodeKeyring]) : nodeKeyring;
}

/**
 * The node's docker logins (config.go `ReadDockerConfigFile`): the first `config.json` found in
 * `dirs` (default: `$HOME/.docker`, `/.docker`), else the first `.dockercfg`
 * (default: `$HOME`, `/`); none → no logins.
 */
export async function readNodeDockerConfig(opts: { configJsonDirs?: string[]; dockercfgDirs?: string[] } = {}): Promise<DockerConfig> {
  const home = homedir();
  for (const dir of opts.configJsonDirs ?? [join(home, ".docker"), "/.docker"]) {
    const text = await readFile(join(dir, "config.json"), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    return parseDockerConfigMap((parseJson(text, join(dir, "config.json")) as { auths?: unknown }).auths);
  }
  for (const dir of opts.dockercfgDirs ?? [home, "/"]) {
    const text = await readFile(join(dir, ".dockercfg"), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    return parseDockerConfigMap(parseJson(text, join(dir, ".dockercfg")));
  }
  return {};
}
