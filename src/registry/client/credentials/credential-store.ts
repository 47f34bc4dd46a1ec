/**
 * Where registry credentials come from.
 *
 * `CredentialProvider` is the one question pulls and pushes ask: the credentials for a
 * registry host, or none. `CredentialStore` is podyard's own login store
 * (`$PODYARD_HOME/auth.json`), in Docker's config.json format: `{"auths": {"<host>":
 * {"auth": base64("user:pass")}}}`, or `identitytoken` for an identity token; the file
 * is mode 0600 and replaced atomically. `defaultCredentialProvider()` asks podyard's
 * store first, then Docker's config.json (its credHelpers, credsStore, auths).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { InvalidArgumentError } from "../../../errdefs/index.js";
import { podyardHome, writeFileAtomic } from "../../../fsutil/index.js";
import { isIdentityToken } from "../token.js";
import type { Credentials } from "../types.js";
import { decodeAuthEntry, DockerConfigProvider, findRegistryKey, registryKeyHost, type DockerAuthEntry } from "./docker-config.js";

/** The credentials for a registry host (`docker.io`, `127.0.0.1:5000`), or undefined for anonymous access. */
export interface CredentialProvider {
  lookup(host: string): Promise<Credentials | undefined>;
}

/** `$PODYARD_HOME/auth.json`. */
export function defaultAuthPath(): string {
  return join(podyardHome(), "auth.json");
}

export interface CredentialStoreOptions {
  /** the store file; default `$PODYARD_HOME/auth.json` */
  path?: string;
}

type AuthFile = Record<string, unknown> & { auths?: Record<string, DockerAuthEntry> };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The host a login is filed under: `https://index.docker.io/v1/` → `docker.io`, `http://h:5000/x` → `h:5000`. */
function storeKey(host: string): string {
  const key = registryKeyHost(host);
  if (key === "" || /[\s@?#]/.test(key)) throw new InvalidArgumentError(`invalid registry host ${JSON.stringify(host)}: want host[:port], e.g. docker.io or 127.0.0.1:5000`);
  return key;
}

/** podyard's login store: `login`, `logout` and `lookup` on one auth.json. */
export class CredentialStore implements CredentialProvider {
  readonly #path: string;
  /** logins and logouts of this process, one at a time */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: CredentialStoreOptions = {}) {
    this.#path = opts.path ?? defaultAuthPath();
  }

  get path(): string {
    return this.#path;
  }

  async lookup(host: string): Promise<Credentials | undefined> {
    const auths = (await this.#read()).auths ?? {};
    const key = findRegistryKey(Object.keys(auths), host);
    if (key === undefined) return undefined;
    return decodeAuthEntry(auths[key] ?? {}, `credential store ${this.#path}: auths[${JSON.stringify(key)}]`);
  }

  /** Files `creds` for `host`, replacing whatever was stored for the same registry. */
  async login(host: string, creds: Credentials): Promise<void> {
    const key = storeKey(host);
    if (creds.username === "" || creds.password === "") throw new InvalidArgumentError(`login to ${key}: the user name and password must not be empty`);
    await this.#update((auths) => {
      for (const k of Object.keys(auths)) if (registryKeyHost(k) === key) delete auths[k];
      auths[key] = isIdentityToken(creds)
        ? { identitytoken: creds.password }
        : { auth: Buffer.from(`${creds.username}:${creds.password}`, "utf8").toString("base64") };
      return true;
    });
  }

  /** Forgets the credentials for `host`; false when there were none. */
  async logout(host: string): Promise<boolean> {
    const key = storeKey(host);
    return this.#update((auths) => {
      let removed = false;
      for (const k of Object.keys(auths)) {
        if (registryKeyHost(k) === key) {
          delete auths[k];
          removed = true;
        }
      }
      return removed;
    });
  }

  #update(change: (auths: Record<string, DockerAuthEntry>) => boolean): Promise<boolean> {
    const run = this.#queue.then(async () => {
      const file = await this.#read();
      const auths = { ...file.auths };
      if (!change(auths)) return false;
      await this.#write({ ...file, auths });
      return true;
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #read(): Promise<AuthFile> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw new InvalidArgumentError(`credential store ${this.#path}: cannot read it: ${(err as Error).message}`, { cause: err });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new InvalidArgumentError(`credential store ${this.#path}: not valid JSON (${(err as Error).message}); fix or remove the file`, { cause: err });
    }
    if (!isRecord(json)) throw new InvalidArgumentError(`credential store ${this.#path}: want a JSON object with "auths"`);
    if (json.auths !== undefined && !isRecord(json.auths)) throw new InvalidArgumentError(`credential store ${this.#path}: auths: want an object keyed by registry`);
    for (const [k, v] of Object.entries(json.auths ?? {})) {
      if (!isRecord(v)) throw new InvalidArgumentError(`credential store ${this.#path}: auths[${JSON.stringify(k)}]: want an object`);
    }
    return json as AuthFile;
  }

  /** Writes a temporary file (mode 0600) next to the store, syncs it and renames it over the store. */
  async #write(file: AuthFile): Promise<void> {
    await writeFileAtomic(this.#path, `${JSON.stringify(file, null, "\t")}\n`, { mode: 0o600, mkdirMode: 0o700 });
  }
}

/** Asks each provider in turn; the first with credentials for the host wins. */
export class CredentialChain implements CredentialProvider {
  readonly #providers: readonly CredentialProvider[];

  constructor(providers: readonly CredentialProvider[]) {
    this.#providers = [...providers];
  }

  async lookup(host: string): Promise<Credentials | undefined> {
    for (const p of this.#providers) {
      const creds = await p.lookup(host);
      if (creds) return creds;
    }
    return undefined;
  }
}

export interface DefaultCredentialProviderOptions {
  /** podyard's store; default `$PODYARD_HOME/auth.json` */
  storePath?: string;
  /** Docker's config.json; default `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` */
  dockerConfigPath?: string;
  /** the environment for Docker's paths and credential helpers; default `process.env` */
  env?: NodeJS.ProcessEnv;
  helperTimeoutMs?: number;
}

/** podyard's login store, then Docker's config.json (credHelpers, credsStore, auths). */
export function defaultCredentialProvider(opts: DefaultCredentialProviderOptions = {}): CredentialProvider {
  return new CredentialChain([
    new CredentialStore(opts.storePath !== undefined ? { path: opts.storePath } : {}),
    new DockerConfigProvider({
      ...(opts.dockerConfigPath !== undefined ? { path: opts.dockerConfigPath } : {}),
      ...(opts.env !== undefined ? { env: opts.env } : {}),
      ...(opts.helperTimeoutMs !== undefined ? { helperTimeoutMs: opts.helperTimeoutMs } : {}),
    }),
  ]);
}
