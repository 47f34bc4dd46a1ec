/**
 * Shared set-up for the archive tests: a fresh node home per test (PODYARD_HOME), the
 * tutorial's busybox image built as an OCI layout, pushed to an in-process registry and
 * pulled through the image service; skopeo run with a scratch HOME; tar helpers.
 */
import type { TestContext } from "node:test";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, open, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { extract, type Header } from "tar-stream";
import { buildBusyboxImage, type BuiltBusyboxImage } from "../../../src/cli/tutorial/busybox-rootfs.js";
import { openNodeEnv, type NodeEnv } from "../../../src/cli/node-env.js";
import { isFailedPrecondition } from "../../../src/errdefs/index.js";
import { readImageLayout } from "../../../src/oci/index.js";
import { pushBlob, startRegistry, type TestRegistry } from "../../helpers/registry.js";

const cleanups: (() => Promise<void>)[] = [];

/** Runs every clean-up registered so far; call from `after`. */
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
}

export async function tempDir(prefix = "podyard-archive-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A node home of its own (PODYARD_HOME points at it while the test runs). */
export async function freshNode(): Promise<NodeEnv> {
  const home = await tempDir("podyard-home-");
  process.env.PODYARD_HOME = home;
  // openNodeEnv with an explicit home requires hosts.json to exist (RegistryHosts.load of a given path)
  await writeFile(join(home, "hosts.json"), "{}\n");
  const env = await openNodeEnv({ home });
  cleanups.push(async () => env.close());
  return env;
}

export interface SourceImage {
  built: BuiltBusyboxImage;
  registry: TestRegistry;
  /** `127.0.0.1:PORT/library/busybox:latest` */
  ref: string;
}

let source: Promise<SourceImage | undefined> | undefined;

async function makeSource(): Promise<SourceImage | undefined> {
  const dir = await tempDir("podyard-busybox-layout-");
  let built: BuiltBusyboxImage;
  try {
    built = await buildBusyboxImage({ dir, gzipLevel: 1, extraLayers: [{ entries: [{ type: "file", path: "etc/motd", content: Buffer.from("archived\n") }] }] });
  } catch (err) {
    if (isFailedPrecondition(err)) return undefined;
    throw err;
  }
  const registry = await startRegistry();
  cleanups.push(() => registry.close());
  const repo = "library/busybox";
  const layout = await readImageLayout(dir);
  for (const d of [layout.manifest.config, ...layout.manifest.layers]) await pushBlob(registry.url, repo, await readFile(layout.blobPath(d.digest)));
  const res = await fetch(`${registry.url}/v2/${repo}/manifests/latest`, {
    method: "PUT",
    headers: { "Content-Type": layout.manifestDescriptor.mediaType },
    body: new Uint8Array(await readFile(layout.blobPath(layout.manifestDescriptor.digest))),
  });
  if (res.status !== 201) throw new Error(`push manifest: ${res.status} ${await res.text()}`);
  return { built, registry, ref: `${new URL(registry.url).host}/${repo}:latest` };
}

/** The busybox image (built once per test file), or a skip when no dynamic busybox is installed. */
export async function sourceImage(t: TestContext): Promise<SourceImage | undefined> {
  source ??= makeSource();
  const s = await source;
  if (!s) t.skip("no dynamic busybox to build the test image from (apt-get install busybox)");
  return s;
}

/** A node that has pulled the busybox image. */
export async function nodeWithImage(t: TestContext): Promise<{ env: NodeEnv; src: SourceImage } | undefined> {
  const src = await sourceImage(t);
  if (!src) return undefined;
  const env = await freshNode();
  await env.imageService.pull(src.ref);
  return { env, src };
}

// ---- skopeo ----------------------------------------------------------------------

let skopeoChecked: Promise<string | undefined> | undefined;

/** Why skopeo cannot run here, or undefined when it can. */
function skopeoMissing(): Promise<string | undefined> {
  skopeoChecked ??= new Promise((resolve) => {
    execFile("skopeo", ["--version"], (err) => resolve(err ? `skopeo not runnable: ${err.message}` : undefined));
  });
  return skopeoChecked;
}

/** True when skopeo is present; otherwise skips the test saying why. */
export async function haveSkopeo(t: TestContext): Promise<boolean> {
  const why = await skopeoMissing();
  if (why === undefined) return true;
  console.log(why);
  t.skip(why);
  return false;
}

let skopeoEnv: Promise<NodeJS.ProcessEnv> | undefined;

/** A scratch HOME, TMPDIR, XDG_RUNTIME_DIR and registries.conf, so skopeo touches nothing of the host's. */
async function makeSkopeoEnv(): Promise<NodeJS.ProcessEnv> {
  const base = await tempDir("podyard-skopeo-");
  const dirs = { HOME: join(base, "home"), XDG_RUNTIME_DIR: join(base, "xdg-runtime"), TMPDIR: join(base, "tmp") };
  for (const d of Object.values(dirs)) await mkdir(d, { mode: 0o700 });
  const registriesConf = join(base, "registries.conf");
  await writeFile(registriesConf, "unqualified-search-registries = []\n");
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, ...dirs, CONTAINERS_REGISTRIES_CONF: registriesConf };
  // as root, containers/image would keep its caches in /var/lib/containers and /var/cache/containers
  if (process.getuid?.() === 0) env._CONTAINERS_ROOTLESS_UID = "1000";
  return env;
}

/** Runs skopeo in its scratch environment; rejects with its stderr on failure. */
export async function skopeo(...args: string[]): Promise<string> {
  skopeoEnv ??= makeSkopeoEnv();
  const env = await skopeoEnv;
  return new Promise((resolve, reject) => {
    execFile("skopeo", args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`skopeo ${args.join(" ")}: ${err.message}\n${stderr}`)) : resolve(stdout));
  });
}

// ---- tar helpers -----------------------------------------------------------------

export interface TarEntry {
  header: Header;
  body: Buffer;
}

/** Every entry of a tar file (gzip or plain), by name (directories without their trailing slash). */
export async function readTar(path: string): Promise<Map<string, TarEntry>> {
  const head = Buffer.alloc(2);
  const fh = await open(path, "r");
  await fh.read(head, 0, 2, 0);
  await fh.close();
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const out = new Map<string, TarEntry>();
  const ex = extract();
  const reading = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
      out.set(entry.header.name.replace(/^\.\//, "").replace(/\/$/, ""), { header: entry.header, body: Buffer.concat(chunks) });
    }
  })();
  if (gz) await pipeline(createReadStream(path), createGunzip(), ex);
  else await pipeline(createReadStream(path), ex);
  await reading;
  return out;
}

/** Flips one byte in the middle of the data of `entry` in a plain tar file, in place. */
export async function corruptTarEntry(path: string, entry: string): Promise<void> {
  const fh = await open(path, "r+");
  try {
    const header = Buffer.alloc(512);
    for (let offset = 0; ; ) {
      const { bytesRead } = await fh.read(header, 0, 512, offset);
      if (bytesRead < 512 || header.every((b) => b === 0)) throw new Error(`${entry} not found in ${path}`);
      const name = header.subarray(0, 100).toString("latin1").replace(/\0.*$/s, "");
      const size = parseInt(header.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0", 8);
      if (name.replace(/^\.\//, "") === entry) {
        const at = offset + 512 + Math.floor(size / 2);
        const b = Buffer.alloc(1);
        await fh.read(b, 0, 1, at);
        b[0] = (b[0] ?? 0) ^ 0xff;
        await fh.write(b, 0, 1, at);
        return;
      }
      offset += 512 + Math.ceil(size / 512) * 512;
    }
  } finally {
    await fh.close();
  }
}

/** The relative paths of every file under `dir`. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out.sort();
}
