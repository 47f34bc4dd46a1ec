/**
 * Rotation of running containers' CRI logs (kubelet `container_log_manager.go`): when a log
 * reaches maxSize it is renamed to `<log>.<YYYYMMDD-HHMMSS>` and the runtime reopens a fresh one;
 * older rotated files are gzipped, and at most maxFiles-2 of them are kept.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { Clock } from "../../clock/index.js";
import { errnoCode, InvalidArgumentError } from "../../errdefs/index.js";
import type { RuntimeService } from "../cri.js";

export const DEFAULT_CONTAINER_LOG_MAX_SIZE = 10 * 1024 * 1024;
export const DEFAULT_CONTAINER_LOG_MAX_FILES = 5;
export const DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS = 10_000;

const COMPRESS_SUFFIX = ".gz";
const TMP_SUFFIX = ".tmp";

export interface ContainerLogManagerOptions {
  runtime: Pick<RuntimeService, "listContainers" | "containerStatus" | "reopenContainerLog">;
  clock: Clock;
  /** Bytes (containerLogMaxSize, default 10Mi). */
  maxSize?: number;
  /** containerLogMaxFiles, default 5; must be > 1. */
  maxFiles?: number;
  /** containerLogMonitorInterval, default 10 s. */
  monitorIntervalMs?: number;
  /** Told of a container whose rotation failed (the kubelet only logs it). */
  onError?: (containerId: string, err: Error) => void;
}

function two(n: number): string {
  return String(n).padStart(2, "0");
}

/** `20060102-150405` in UTC. */
export function rotationTimestamp(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/** The rotated files of `log` (`<log>.*`), sorted oldest first (the timestamps sort as text). */
async function rotatedFiles(log: string): Promise<string[]> {
  const dir = dirname(log);
  const prefix = basename(log) + ".";
  return (await readdir(dir)).filter((n) => n.startsWith(prefix)).sort().map((n) => join(dir, n));
}

/** Compresses `log` to `<log>.gz` through `<log>.tmp`, then removes the original, as the kubelet does. */
async function compressLog(log: string): Promise<void> {
  const tmp = log + TMP_SUFFIX;
  try {
    await pipeline(createReadStream(log), createGzip(), createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, log + COMPRESS_SUFFIX);
    await rm(log);
  } finally {
    await rm(tmp, { force: true });
  }
}

export class ContainerLogManager {
  readonly #opts: ContainerLogManagerOptions;
  readonly #maxSize: number;
  readonly #maxFiles: number;
  #stop?: AbortController;
  #loop?: Promise<void>;

  constructor(opts: ContainerLogManagerOptions) {
    this.#maxSize = opts.maxSize ?? DEFAULT_CONTAINER_LOG_MAX_SIZE;
    this.#maxFiles = opts.maxFiles ?? DEFAULT_CONTAINER_LOG_MAX_FILES;
    if (this.#maxFiles <= 1) throw new InvalidArgumentError(`invalid MaxFiles ${this.#maxFiles}, must be > 1`);
    if (this.#maxSize < 0) throw new InvalidArgumentError(`invalid MaxSize ${this.#maxSize}, must be >= 0`);
    this.#opts = opts;
  }

  /** Checks every running container once, rotating the logs that are too big. */
  async rotateOnce(): Promise<void> {
    const { runtime } = this.#opts;
    const containers = await runtime.listContainers({ state: { state: "CONTAINER_RUNNING" } });
    for (const c of containers) {
      if (c.state !== "CONTAINER_RUNNING") continue;
      try {
        await this.#rotateContainer(c.id);
      } catch (err) {
        this.#opts.onError?.(c.id, err as Error);
      }
    }
  }

  async #rotateContainer(id: string): Promise<void> {
    const { runtime } = this.#opts;
    const log = (await runtime.containerStatus(id)).status.logPath;
    if (!log) return;
    let size = await sizeOf(log);
    if (size === undefined) {
      // A failed reopen may have lost the file: ask for it again.
      await runtime.reopenContainerLog(id);
      size = await sizeOf(log);
      if (size === undefined) return;
    }
    if (size < this.#maxSize) return;
    await this.#rotateLog(id, log);
  }

  async #rotateLog(id: string, log: string): Promise<void> {
    let logs = await rotatedFiles(log);
    // Leftover temporaries, and originals whose .gz exists, are not in use.
    const inUse = (l: string): boolean => !l.endsWith(TMP_SUFFIX) && (l.endsWith(COMPRESS_SUFFIX) || !logs.includes(l + COMPRESS_SUFFIX));
    for (const l of logs.filter((l) => !inUse(l))) await rm(l, { force: true });
    logs = logs.filter(inUse);
    // The current file and the one being rotated make two: keep maxFiles-2 rotated ones.
    const keep = Math.max(0, this.#maxFiles - 2);
    const excess = logs.length - keep;
    for (const l of logs.slice(0, Math.max(0, excess))) await rm(l, { force: true });
    logs = logs.slice(Math.max(0, excess));
    for (const l of logs) if (!l.endsWith(COMPRESS_SUFFIX)) await compressLog(l);

    const rotated = `${log}.${rotationTimestamp(this.#opts.clock.now())}`;
    await rename(log, rotated);
    try {
      await this.#opts.runtime.reopenContainerLog(id);
    } catch (err) {
      // Put it back so the next round tries again.
      await rename(rotated, log).catch(() => undefined);
      throw new Error(`failed to reopen container log ${JSON.stringify(id)}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Removes the rotated files of a log (when its container is removed). */
  async clean(logPath: string): Promise<void> {
    for (const l of await rotatedFiles(logPath).catch(() => [])) await rm(l, { force: true });
  }

  /** Runs rotateOnce every monitor interval on the clock until stop(). */
  start(): void {
    if (this.#loop) return;
    const stop = new AbortController();
    this.#stop = stop;
    const interval = this.#opts.monitorIntervalMs ?? DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS;
    this.#loop = (async () => {
      while (!stop.signal.aborted) {
        try {
          await this.#opts.clock.sleep(interval, stop.signal);
        } catch {
          return;
        }
        await this.rotateOnce().catch((err: unknown) => this.#opts.onError?.("", err as Error));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop?.abort();
    await this.#loop;
    this.#loop = undefined;
  }
}
