/**
 * Helpers for registry tests that need more than an in-process server: the `podyard`
 * CLI run as a child process (serve, gc), raw HTTP requests whose path is sent
 * verbatim, temporary directories and a walk of a storage tree.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

export const PODYARD_BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "podyard.js");

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `podyard-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `podyard <args>` to completion (killed after `timeoutMs`). */
export async function runPodyard(args: string[], timeoutMs = 15_000): Promise<CliResult> {
  const child = spawn(process.execPath, [PODYARD_BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c, s) => resolve([c, s]));
    });
    return { code, signal, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

export interface RegistryProcess {
  child: ChildProcess;
  url: string;
  /** everything the process wrote to stderr so far */
  stderr(): string;
  /** Sends `signal` (default SIGKILL) to this process only and waits until it has exited. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `podyard registry serve --addr 127.0.0.1:0 --root <root> ...extra` and waits for its URL. */
export async function startRegistryProcess(root: string, extra: string[] = [], addr = "127.0.0.1:0"): Promise<RegistryProcess> {
  const child = spawn(process.execPath, [PODYARD_BIN, "registry", "serve", "--addr", addr, "--root", root, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
  const kill = async (signal: NodeJS.Signals = "SIGKILL"): Promise<{ code: number | null; signal: NodeJS.Signals | null }> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`registry did not start in 15 s; stderr: ${stderr}`)), 15_000);
      child.stdout.setEncoding("utf8").on("data", (s: string) => {
        stdout += s;
        const m = /listening on (\S+)/.exec(stdout);
        if (m?.[1]) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`registry exited (${code ?? signal}) before listening; stderr: ${stderr}`));
      });
    });
    return { child, url, stderr: () => stderr, kill };
  } catch (err) {
    await kill();
    throw err;
  }
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One HTTP request with the path sent exactly as given (fetch and URL would resolve
 * `..` and `%2e%2e` before sending). `body` as an array is sent chunked, one write each.
 */
export async function rawRequest(
  base: string,
  opts: { method: string; path: string; headers?: Record<string, string | number>; body?: Buffer | Buffer[] },
): Promise<RawResponse> {
  const u = new URL(base);
  const headers: Record<string, string | number> = { ...opts.headers };
  if (Buffer.isBuffer(opts.body)) headers["Content-Length"] = opts.body.length;
  return new Promise<RawResponse>((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method: opts.method, path: opts.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (Array.isArray(opts.body)) {
      const chunks = opts.body;
      void (async () => {
        for (const c of chunks) {
          if (!req.write(c)) await new Promise<void>((r) => req.once("drain", () => r()));
        }
        req.end();
      })();
    } else {
      req.end(opts.body);
    }
  });
}

/** The first OCI error code of a raw response body, if it is one. */
export function rawErrorCode(res: RawResponse): string | undefined {
  try {
    return (JSON.parse(res.body.toString("utf8")) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** Every file and directory under `dir`, as `/`-separated paths relative to it (directories end in `/`). */
export async function walkTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      const rel = relative(dir, p).split(sep).join("/");
      if (e.isDirectory()) {
        out.push(`${rel}/`);
        await walk(p);
      } else {
        out.push(rel);
      }
    }
  };
  await walk(dir);
  return out.sort();
}

/** Retries `fn` until it stops throwing or `timeoutMs` passes (then rethrows the last error). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
