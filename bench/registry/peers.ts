// Starts and stops the two registries under test on loopback, each on a free port with its own storage dir.
// Only the PIDs spawned here are ever signalled.
import { spawn, type ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import http from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../test/helpers/distribution.js";
import type { Cleanup } from "./cleanup.js";

export type PeerName = "distribution" | "podyard";

export interface Peer {
  readonly name: PeerName;
  readonly baseUrl: string;
  /** What the server reports as its version, for the report header. */
  readonly version: string;
  stop(): Promise<void>;
}

const DISTRIBUTION_BIN = "/usr/bin/docker-registry";
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const TAIL_BYTES = 4096;

/** A spawned server process, with the last bytes of its output kept for error reports. */
class ServerProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #exitStatus: string | undefined;
  #tail = "";

  constructor(command: string, args: readonly string[], opts: { cwd: string }) {
    this.#child = spawn(command, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (chunk: Buffer): void => {
      this.#tail = (this.#tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
    };
    this.#child.stdout?.on("data", keep);
    this.#child.stderr?.on("data", keep);
    this.#exited = new Promise((resolve) => {
      this.#child.once("error", (err) => {
        this.#exitStatus = `failed to spawn ${command}: ${err.message}`;
        resolve();
      });
      this.#child.once("exit", (code, signal) => {
        this.#exitStatus = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
        resolve();
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Why the process is gone, with its last output; undefined while it runs. */
  get exitReport(): string | undefined {
    if (this.#exitStatus === undefined) return undefined;
    const tail = this.#tail.trim();
    return tail === "" ? this.#exitStatus : `${this.#exitStatus}; last output:\n${tail}`;
  }

  get exited(): Promise<void> {
    return this.#exited;
  }

  /** SIGTERM, then SIGKILL after a grace period. */
  async stop(): Promise<void> {
    if (this.#exitStatus !== undefined) return;
    this.#child.kill("SIGTERM");
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), STOP_GRACE_MS);
    await this.#exited;
    clearTimeout(timer);
  }

  /** For the exit-time fallback: SIGKILL if still running. */
  killSync(): void {
    if (this.#exitStatus === undefined) this.#child.kill("SIGKILL");
  }
}

/** One GET; resolves with the status, or 0 when the connection failed. */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(0));
  });
}

/** Polls GET /v2/ until it answers 200; fails early when the process exits. */
async function waitReady(server: ServerProcess, baseUrl: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 0;
  while (Date.now() < deadline) {
    const exit = server.exitReport;
    if (exit !== undefined) throw new Error(exit);
    last = await probe(`${baseUrl}/v2/`);
    if (last === 200) return;
    await Promise.race([new Promise((r) => setTimeout(r, 100)), server.exited]);
  }
  throw new Error(`GET /v2/ did not answer 200 within ${READY_TIMEOUT_MS} ms (last status ${last === 0 ? "none" : last})`);
}

async function launch(
  name: PeerName,
  command: string,
  args: readonly string[],
  opts: { cwd: string; port: number; version: string; cleanup: Cleanup },
): Promise<Peer> {
  const server = new ServerProcess(command, args, { cwd: opts.cwd });
  opts.cleanup.add(`stop ${name} (pid ${String(server.pid)})`, { run: () => server.stop(), runSync: () => server.killSync() });
  const baseUrl = `http://127.0.0.1:${opts.port}`;
  try {
    await waitReady(server, baseUrl);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { name, baseUrl, version: opts.version, stop: () => server.stop() };
}

/** Debian's docker-registry (CNCF distribution) with a fresh filesystem root under `dir`. */
export async function startDistribution(dir: string, opts: { cleanup: Cleanup }): Promise<Peer> {
  const port = await freePort();
  const root = join(dir, "storage");
  // Debian's packaged /etc/docker/registry/config.yml, minus auth and the storage health check, plus quiet logs.
  const config = [
    "version: 0.1",
    "log:",
    "  level: error",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  cache:",
    "    blobdescriptor: inmemory",
    "  filesystem:",
    `    rootdirectory: ${root}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "health:",
    "  storagedriver:",
    "    enabled: false",
    "",
  ].join("\n");
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, config);
  let version = "distribution";
  try {
    const { stdout } = await promisify(execFile)(DISTRIBUTION_BIN, ["--version"]);
    version = stdout.trim().split(/\s+/).slice(1).join(" ") || version;
  } catch {
    // the start below reports a missing binary
  }
  return launch("distribution", DISTRIBUTION_BIN, ["serve", configPath], { cwd: dir, port, version, cleanup: opts.cleanup });
}

/** podyard's registry (`bin/podyard.js registry serve`) with a fresh root under `dir`. */
export async function startPodyard(dir: string, opts: { repoRoot: string; cleanup: Cleanup }): Promise<Peer> {
  const port = await freePort();
  let version = "podyard";
  try {
    const pkg = JSON.parse(await readFile(join(opts.repoRoot, "package.json"), "utf8")) as { version?: unknown };
    if (typeof pkg.version === "string") version = `podyard ${pkg.version}`;
  } catch {
    // version is cosmetic
  }
  const args = [join(opts.repoRoot, "bin", "podyard.js"), "registry", "serve", "--addr", `127.0.0.1:${port}`, "--root", join(dir, "storage")];
  return launch("podyard", process.execPath, args, { cwd: dir, port, version, cleanup: opts.cleanup });
}
