/**
 * The registry `podyard up` embeds, and its place as docker.io's first mirror. What it
 * holds is served as it is (a tag pushed here wins: `library/alpine:latest` pushed by the
 * tutorial is what `alpine` means on this node); what it lacks is fetched from the
 * upstream (docker.io by default) through the registry's pull-through cache, stored, and
 * served; when the upstream cannot be reached the pull fails with the upstream's error.
 * Unlike distribution's proxy mode it takes pushes: it is the node's own registry too.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Clock } from "../../clock/index.js";
import { errnoCode } from "../../errdefs/index.js";
import { writeFileAtomic } from "../../fsutil/index.js";
import type { Digest } from "../../oci/index.js";
import type { HostsConfig, MirrorConfig } from "../../registry/client/index.js";
import {
  ProxyCache, RegistryServer, type ManifestReference, type Registry, type StoredManifest, type UpstreamSource,
} from "../../registry/server/index.js";

export const DOCKER_HUB_UPSTREAM = "https://registry-1.docker.io";

/** Serves a tag from the local store when it is there; asks the pull-through cache otherwise. */
export class LocalFirstUpstream implements UpstreamSource {
  readonly #registry: Registry;
  readonly #cache: UpstreamSource | undefined;

  constructor(registry: Registry, cache: UpstreamSource | undefined) {
    this.#registry = registry;
    this.#cache = cache;
  }

  async manifest(name: string, ref: ManifestReference): Promise<StoredManifest | undefined> {
    const local = await this.#registry.getManifest(name, ref);
    if (local) return local;
    return this.#cache?.manifest(name, ref);
  }

  async blob(name: string, digest: Digest): Promise<boolean> {
    return this.#cache ? this.#cache.blob(name, digest) : false;
  }
}

export interface EmbeddedRegistryOptions {
  /** storage root, `$PODYARD_HOME/registry` */
  root: string;
  /** the registry the cache fills from (default docker.io); null: no pull-through, only what is stored */
  upstreamUrl?: string | null;
  clock?: Clock;
  log?: (line: string) => void;
}

export function createEmbeddedRegistry(opts: EmbeddedRegistryOptions): RegistryServer {
  // the server is made first so the cache shares its Registry (one view of the storage)
  const holder: { upstream?: LocalFirstUpstream } = {};
  const lazy: UpstreamSource = {
    manifest: (name, ref) => holder.upstream?.manifest(name, ref) ?? Promise.resolve(undefined),
    blob: (name, digest) => holder.upstream?.blob(name, digest) ?? Promise.resolve(false),
  };
  const server = new RegistryServer({
    root: opts.root,
    upstream: lazy,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  const remote = opts.upstreamUrl === undefined ? DOCKER_HUB_UPSTREAM : opts.upstreamUrl;
  const cache = remote === null
    ? undefined
    : new ProxyCache({ root: opts.root, remoteUrl: remote, registry: server.registry, maxAttempts: 1, ...(opts.clock ? { clock: opts.clock } : {}) });
  holder.upstream = new LocalFirstUpstream(server.registry, cache);
  return server;
}

/** The mirror entry `podyard up` puts first for docker.io: the embedded registry, plain HTTP. */
export function mirrorEntry(registryAddr: string): MirrorConfig {
  return { url: `http://${registryAddr}`, capabilities: ["pull", "resolve"] };
}

/**
 * `config` with the embedded registry first among docker.io's mirrors (`registryAddr`), or
 * without it (`undefined`, for --no-mirror). `previous` is the URL written last time, so a
 * mirror on an old address is taken out; the user's own mirrors stay, after ours.
 */
export function withDockerHubMirror(config: HostsConfig, registryAddr: string | undefined, previous: string | undefined): HostsConfig {
  const next: HostsConfig = { ...config };
  const hub = { ...(next["docker.io"] ?? {}) };
  const ours = registryAddr === undefined ? undefined : mirrorEntry(registryAddr);
  const others = (hub.mirrors ?? []).filter((m) => m.url !== previous && m.url !== ours?.url);
  hub.mirrors = ours ? [ours, ...others] : others;
  if (hub.mirrors.length === 0) delete hub.mirrors;
  if (Object.keys(hub).length === 0) delete next["docker.io"];
  else next["docker.io"] = hub;
  return next;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Writes `<home>/hosts.json` so that docker.io resolves through the embedded registry at
 * `registryAddr` first (or no longer does, when undefined). `<home>/up/mirror` remembers
 * the URL written, to take it out again on the next start.
 */
export async function configureDockerHubMirror(home: string, registryAddr: string | undefined): Promise<void> {
  const hostsPath = join(home, "hosts.json");
  const markPath = join(home, "up", "mirror");
  const text = await readText(hostsPath);
  const config = text === undefined || text.trim() === "" ? {} : (JSON.parse(text) as HostsConfig);
  const previous = (await readText(markPath))?.trim();
  const next = withDockerHubMirror(config, registryAddr, previous === "" ? undefined : previous);
  if (text !== undefined || Object.keys(next).length > 0) await writeFileAtomic(hostsPath, `${JSON.stringify(next, null, 2)}\n`, { mkdirMode: 0o755 });
  await writeFileAtomic(markPath, registryAddr === undefined ? "" : `${mirrorEntry(registryAddr).url}\n`, { mkdirMode: 0o755 });
}
