/**
 * Debian's docker-registry (CNCF distribution 2.8) as a test peer: a fresh filesystem
 * root and config under the caller's directory, loopback on a free port, optional
 * htpasswd or token auth, optional TLS. Its log is kept for failure reports; the process is only ever
 * signalled through its own handle, and `stop()` waits for it to exit.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";

export const DISTRIBUTION_BIN = "/usr/bin/docker-registry";

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_BYTES = 64 * 1024;

export type DistributionAuth =
  | { htpasswd: { realm: string; path: string } }
  | { token: { realm: string; service: string; issuer: string; rootcertbundle: string } };

export interface DistributionOptions {
  auth?: DistributionAuth;
  /** distribution's log level (default "info": token verification failures are logged at info) */
  logLevel?: "error" | "warn" | "info" | "debug";
  /** serve HTTPS with this certificate and key (PEM files) */
  tls?: { certFile: string; keyFile: string };
}

export interface Distribution {
  /** `http://127.0.0.1:<port>` (`https://` with `tls`) */
  readonly url: string;
  /** `127.0.0.1:<port>`, as image references name it */
  readonly host: string;
  readonly pid: number | undefined;
  /** the last 64 KiB of the registry's output */
  log(): string;
  /** SIGTERM, SIGKILL after 5 s; resolves once the process has exited */
  stop(): Promise<void>;
}

/** Why docker-registry cannot run here, or undefined when it can. */
export async function distributionMissing(): Promise<string | undefined> {
  try {
    await promisify(execFile)(DISTRIBUTION_BIN, ["--version"]);
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return e.code === "ENOENT" ? `${DISTRIBUTION_BIN} not installed: apt-get install docker-registry` : `${DISTRIBUTION_BIN} --version failed: ${e.message}`;
  }
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === "object") resolve(addr.port);
        else reject(new Error("Cannot find a free port: no address"));
      });
    });
  });
}

function configYaml(root: string, port: number, opts: DistributionOptions): string {
  const lines = [
    "version: 0.1",
    "log:",
    `  level: ${opts.logLevel ?? "info"}`,
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  cache:",
    "    blobdescriptor: inmemory",
    "  filesystem:",
    `    rootdirectory: ${JSON.stringify(root)}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    ...(opts.tls ? ["  tls:", `    certificate: ${JSON.stringify(opts.tls.certFile)}`, `    key: ${JSON.stringify(opts.tls.keyFile)}`] : []),
    "health:",
    "  storagedriver:",
    "    enabled: false",
  ];
  const auth = opts.auth;
  if (auth !== undefined && "htpasswd" in auth) {
    lines.push("auth:", "  htpasswd:", `    realm: ${JSON.stringify(auth.htpasswd.realm)}`, `    path: ${JSON.stringify(auth.htpasswd.path)}`);
  } else if (auth !== undefined) {
    const t = auth.token;
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${JSON.stringify(t.realm)}`,
      `    service: ${JSON.stringify(t.service)}`,
      `    issuer: ${JSON.stringify(t.issuer)}`,
      `    rootcertbundle: ${JSON.stringify(t.rootcertbundle)}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** One GET; resolves with the status, or 0 when the connection failed. */
function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const get = url.startsWith("https:") ? https.get : http.get;
    const req = get(url, { agent: false, timeout: 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(0));
  });
}

/**
 * Starts docker-registry with its storage and config.yml under `dir` (which the caller
 * creates and removes). Resolves once `GET /v2/` answers (200, or 401 with auth).
 */
export async function startDistribution(dir: string, opts: DistributionOptions = {}): Promise<Distribution> {
  const port = await freePort();
  const configPath = join(dir, "config.yml");
  await writeFile(configPath, configYaml(join(dir, "storage"), port, opts));
  const child: ChildProcess = spawn(DISTRIBUTION_BIN, ["serve", configPath], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-LOG_TAIL_BYTES);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exitStatus: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("error", (err) => {
      exitStatus = `failed to spawn ${DISTRIBUTION_BIN}: ${err.message}`;
      resolve();
    });
    child.once("exit", (code, signal) => {
      exitStatus = signal !== null ? `killed by ${signal}` : `exited with code ${String(code)}`;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (exitStatus !== undefined) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };
  const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 0;
    for (;;) {
      if (exitStatus !== undefined) throw new Error(`docker-registry ${exitStatus}; last output:\n${tail.trim()}`);
      last = await probe(`${url}/v2/`);
      if (last === 200 || last === 401) break;
      if (Date.now() > deadline) {
        throw new Error(`docker-registry: GET /v2/ did not answer within ${READY_TIMEOUT_MS} ms (last status ${last === 0 ? "none" : last}); output:\n${tail.trim()}`);
      }
      await Promise.race([new Promise((r) => setTimeout(r, 50)), exited]);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, host: `127.0.0.1:${port}`, pid: child.pid, log: () => tail, stop };
}
