/** Shared pieces of the auth tests: credentials, challenge parsing, a client-side token dance, pushing with headers. */
import { execFile } from "node:child_process";
import { gzipSync } from "node:zlib";
import { promisify } from "node:util";
import bcrypt from "bcryptjs";
import { digestOf, MediaType, type Digest } from "../../../../src/oci/index.js";
import type { TokenResponse } from "../../../../src/registry/server/index.js";

const run = promisify(execFile);

/**
 * One htpasswd line for `user`/`password`: written by `htpasswd -Bbn` (apache2-utils)
 * when the binary exists, else by bcryptjs in the `$2y$` form htpasswd writes.
 */
export async function htpasswdLine(user: string, password: string, cost = 5): Promise<{ line: string; how: string }> {
  try {
    const { stdout } = await run("htpasswd", ["-Bbn", "-C", String(cost), user, password]);
    return { line: stdout.trim(), how: "htpasswd -Bbn" };
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === "ENOENT" ? "htpasswd binary not found" : `htpasswd failed: ${(err as Error).message}`;
    const hash = (await bcrypt.hash(password, cost)).replace(/^\$2b\$/, "$2y$");
    return { line: `${user}:${hash}`, how: `bcryptjs (${why})` };
  }
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one `WWW-Authenticate` challenge (quoted values may hold commas and escapes). */
export function parseChallenge(header: string | null): Challenge {
  if (header === null) throw new Error("no WWW-Authenticate header");
  const m = /^(\S+)\s*(.*)$/.exec(header);
  if (!m) throw new Error(`malformed challenge ${header}`);
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/gy;
  const rest = m[2] ?? "";
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) {
    params[(p[1] ?? "").toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: m[1] ?? "", params };
}

/** What the token endpoint answers. */
export type TokenBody = TokenResponse;

/** GET <realm>?service=&scope=... (one scope parameter each), with optional Basic credentials. */
export async function getToken(
  realm: string,
  opts: { service: string; scopes?: string[]; auth?: string; extra?: Record<string, string> },
): Promise<Response> {
  const u = new URL(realm);
  u.searchParams.set("service", opts.service);
  for (const s of opts.scopes ?? []) u.searchParams.append("scope", s);
  for (const [k, v] of Object.entries(opts.extra ?? {})) u.searchParams.set(k, v);
  return fetch(u, { headers: opts.auth ? { Authorization: opts.auth } : {} });
}

export { errorCode } from "../../../helpers/registry.js";

/**
 * A minimal client: sends the request with the current Authorization; on a Bearer
 * challenge, fetches a token for the challenge's scopes (with Basic `creds` when
 * given) and retries once, as containerd and containers/image do.
 */
export class TestClient {
  #auth: string | undefined;
  readonly #creds: string | undefined;
  tokenRequests = 0;

  constructor(creds?: string) {
    this.#creds = creds;
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const send = (): Promise<Response> => fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), ...(this.#auth ? { Authorization: this.#auth } : {}) } });
    const first = await send();
    if (first.status !== 401) return first;
    const ch = parseChallenge(first.headers.get("www-authenticate"));
    if (ch.scheme === "Basic") {
      if (!this.#creds) return first;
      this.#auth = this.#creds;
    } else {
      await first.arrayBuffer();
      this.tokenRequests++;
      const res = await getToken(ch.params.realm ?? "", {
        service: ch.params.service ?? "",
        scopes: ch.params.scope ? ch.params.scope.split(" ") : [],
        ...(this.#creds ? { auth: this.#creds } : {}),
      });
      if (res.status !== 200) throw new Error(`token request: ${res.status} ${await res.text()}`);
      this.#auth = `Bearer ${((await res.json()) as TokenBody).token}`;
    }
    return send();
  }
}

export interface PushedImage {
  manifest: Buffer;
  digest: Digest;
}

/** Pushes a tiny OCI image (config + one gzip layer + manifest) through `client`. */
export async function pushImage(client: TestClient, url: string, name: string, tag: string): Promise<PushedImage> {
  const tar = Buffer.alloc(1024); // an empty tar: two zero blocks
  const layer = gzipSync(tar);
  const config = Buffer.from(JSON.stringify({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [digestOf(tar)] },
  }));
  for (const blob of [config, layer]) {
    const res = await client.fetch(`${url}/v2/${name}/blobs/uploads/?digest=${digestOf(blob)}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: new Uint8Array(blob),
    });
    if (res.status !== 201) throw new Error(`push blob: ${res.status} ${await res.text()}`);
  }
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: MediaType.ociLayerGzip, digest: digestOf(layer), size: layer.length }],
  }));
  const res = await client.fetch(`${url}/v2/${name}/manifests/${tag}`, {
    method: "PUT",
    headers: { "Content-Type": MediaType.ociManifest },
    body: new Uint8Array(manifest),
  });
  if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
  return { manifest, digest: digestOf(manifest) };
}
