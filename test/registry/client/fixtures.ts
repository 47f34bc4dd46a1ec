/** Shared pieces of the registry client tests: real and raw servers, a small image, stream helpers. */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { FakeClock } from "../../../src/clock/index.js";
import { digestOf, MediaType, type Digest } from "../../../src/oci/index.js";
import { RegistryServer, type RegistryServerOptions } from "../../../src/registry/server/index.js";

export interface RunningRegistry {
  server: RegistryServer;
  url: string;
  /** host:port */
  host: string;
  root: string;
  close(): Promise<void>;
}

export async function startRegistry(opts: Partial<RegistryServerOptions> = {}, make?: (o: RegistryServerOptions) => RegistryServer): Promise<RunningRegistry> {
  const root = await mkdtemp(join(tmpdir(), "podyard-registry-"));
  const options: RegistryServerOptions = { log: () => undefined, ...opts, root };
  const server = make ? make(options) : new RegistryServer(options);
  const url = await server.listen(0);
  let closed = false;
  return {
    server,
    url,
    host: new URL(url).host,
    root,
    close: async () => {
      if (!closed) await server.close();
      closed = true;
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface RawServer {
  url: string;
  host: string;
  close(): Promise<void>;
}

/** A plain node:http server for misbehaving registries. */
export async function rawServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<RawServer> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** host:port of a loopback port nothing listens on. */
export async function deadHost(): Promise<string> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

export interface ListeningServer {
  host: string;
  /** connections still open */
  sockets: ReadonlySet<Socket>;
  /** stops listening and destroys the connections still open */
  close(): Promise<void>;
}

/** Starts `server` (net, http or https) on a free loopback port, tracking its connections. */
export async function listenLoopback(server: NetServer): Promise<ListeningServer> {
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

export interface SilentServer extends RawServer {
  /** connections accepted */
  accepted(): number;
  /** connections still open */
  open(): number;
}

/** A loopback TCP server that accepts connections and never says a word. */
export async function silentServer(): Promise<SilentServer> {
  let accepted = 0;
  const server = createNetServer((socket) => {
    accepted++;
    socket.on("error", () => undefined);
    socket.resume(); // read and drop whatever comes
  });
  const l = await listenLoopback(server);
  return { url: `http://${l.host}`, host: l.host, accepted: () => accepted, open: () => l.sockets.size, close: l.close };
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface TestImage {
  config: Buffer;
  layers: Buffer[];
  manifest: Buffer;
  manifestDigest: Digest;
}

/** A config, `layerSizes` random layers and the OCI manifest that ties them together. */
export function makeImage(layerSizes: number[] = [1024, 300 * 1024]): TestImage {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
  const layers = layerSizes.map((n) => randomBytes(n));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: digestOf(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: MediaType.ociLayerGzip, digest: digestOf(l), size: l.length })),
  }));
  return { config, layers, manifest, manifestDigest: digestOf(manifest) };
}

/** A FakeClock that moves by itself when someone sleeps, and records each sleep. */
export class SteppingClock extends FakeClock {
  readonly sleeps: number[] = [];
  override sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    const p = super.sleep(ms, signal);
    this.step(ms);
    return p;
  }
}

/** The JSON error body a registry sends. */
export function ociError(code: string, message: string): string {
  return JSON.stringify({ errors: [{ code, message }] });
}
