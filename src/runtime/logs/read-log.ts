/**
 * Reading a container's CRI log file as `kubectl logs` gets it (kubelet `ReadLogs`): tail,
 * since, limitBytes, timestamps, one stream or both, and follow, which waits for more until the
 * container stops and moves to the new file after a rotation.
 */
import { watch, type FSWatcher } from "node:fs";
import { open, realpath, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { Writable } from "node:stream";
import type { Clock } from "../../clock/index.js";
import { realClock } from "../../clock/index.js";
import { errnoCode, NotFoundError } from "../../errdefs/index.js";
import { formatLogTimestamp, parseCriLogLine, type CriLogMessage } from "./cri-log.js";

export interface ReadLogOptions {
  follow?: boolean;
  /** Only the last N lines of the file (negative or unset: all). */
  tailLines?: number;
  /** Only lines at or after this time (milliseconds since the epoch). */
  sinceTime?: number;
  /** Stop after this many bytes (unset: no limit). */
  limitBytes?: number;
  /** Prefix each line with its time, `2006-01-02T15:04:05.000000000Z07:00 `. */
  timestamps?: boolean;
  stream?: "All" | "Stdout" | "Stderr";
  /** Ends a follow (the client went away). */
  signal?: AbortSignal;
  /** Whether the container still runs; a follow ends at the end of the file once it does not. */
  isRunning?: () => Promise<boolean>;
  /** Paces the follow's periodic re-check (1 s, as the kubelet's `logForceCheckPeriod`). */
  clock?: Clock;
}

const BLOCK = 1024;
const CHUNK = 64 * 1024;
const FORCE_CHECK_MS = 1000;

/** The file offset where the last `n` lines start (`FindTailLineStartIndex`). */
export async function tailLineStart(fh: FileHandle, n: number): Promise<number> {
  if (n < 0) return 0;
  const { size } = await fh.stat();
  let left = 0;
  let count = 0;
  let buf = Buffer.alloc(0);
  for (let right = size; right > 0 && count <= n; right -= BLOCK) {
    left = Math.max(0, right - BLOCK);
    buf = Buffer.alloc(right - left);
    await fh.read(buf, 0, buf.length, left);
    for (const b of buf) if (b === 0x0a) count++;
  }
  for (; count > n; count--) {
    const idx = buf.indexOf(0x0a) + 1;
    buf = buf.subarray(idx);
    left += idx;
  }
  return left;
}

class MaximumWrite extends Error {}

/**
 * Writes messages as the kubelet's logWriter: since filter, stream choice, prefix at line starts,
 * byte limit. Output is gathered and written in chunks of up to 64 KiB, and whenever the reader
 * reaches the end of the file, so a follow shows each line at once.
 */
class LogWriter {
  #remain: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  constructor(private readonly out: Writable, private readonly opts: ReadLogOptions) {
    this.#remain = opts.limitBytes !== undefined && opts.limitBytes > 0 ? opts.limitBytes : Number.POSITIVE_INFINITY;
  }

  async write(msg: CriLogMessage, addPrefix: boolean): Promise<void> {
    if (this.opts.sinceTime !== undefined && msg.time.nanos < BigInt(Math.floor(this.opts.sinceTime)) * 1_000_000n) return;
    const want = this.opts.stream ?? "All";
    if ((want === "Stdout" && msg.stream !== "stdout") || (want === "Stderr" && msg.stream !== "stderr")) return;
    let line = msg.log;
    if (this.opts.timestamps && addPrefix) line = Buffer.concat([Buffer.from(formatLogTimestamp(msg.time) + " "), line]);
    if (line.length > this.#remain) line = line.subarray(0, this.#remain);
    this.#pending.push(Buffer.from(line));
    this.#pendingBytes += line.length;
    this.#remain -= line.length;
    if (this.#remain <= 0) {
      await this.flush();
      throw new MaximumWrite();
    }
    if (this.#pendingBytes >= CHUNK) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const data = Buffer.concat(this.#pending);
    this.#pending = [];
    this.#pendingBytes = 0;
    await writeOut(this.out, data);
  }
}

function writeOut(out: Writable, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    if (out.destroyed || out.writableEnded) return reject(new Error("output closed"));
    out.write(data, (err) => (err ? reject(err) : resolve()));
  });
}

/** Reads lines from a file handle, keeping an incomplete last line for the next read. */
class LineReader {
  #pos: number;
  #buf = Buffer.alloc(0);
  #chunk = Buffer.alloc(CHUNK);
  constructor(public fh: FileHandle, start: number) {
    this.#pos = start;
  }

  /** The next complete line (with `\n`), or undefined at the end of what is written so far. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      const nl = this.#buf.indexOf(0x0a);
      if (nl >= 0) {
        const line = this.#buf.subarray(0, nl + 1);
        this.#buf = this.#buf.subarray(nl + 1);
        return line;
      }
      const { bytesRead } = await this.fh.read(this.#chunk, 0, CHUNK, this.#pos);
      if (bytesRead === 0) return undefined;
      this.#pos += bytesRead;
      this.#buf = Buffer.concat([this.#buf, this.#chunk.subarray(0, bytesRead)]);
    }
  }

  /** What is left without a newline (an unterminated last line). */
  takeRest(): Buffer {
    const rest = this.#buf;
    this.#buf = Buffer.alloc(0);
    return rest;
  }

  /** Moves to another file (after rotation), from its start. */
  switchTo(fh: FileHandle): void {
    this.fh = fh;
    this.#pos = 0;
    this.#buf = Buffer.alloc(0);
  }
}

/** Waits for a change in the log's directory, the 1 s re-check, or the abort; never rejects. */
function waitForChange(watcher: FSWatcher | undefined, clock: Clock, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const ac = new AbortController();
    const done = (): void => {
      watcher?.off("change", done);
      signal?.removeEventListener("abort", done);
      ac.abort();
      resolve();
    };
    watcher?.on("change", done);
    signal?.addEventListener("abort", done, { once: true });
    clock.sleep(FORCE_CHECK_MS, ac.signal).then(done, () => undefined);
  });
}

async function inodeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/** Writes the container's log to `out` as the options say; resolves when done (or aborted). */
export async function readContainerLog(path: string, opts: ReadLogOptions, out: Writable): Promise<void> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    const Class = errnoCode(err) === "ENOENT" ? NotFoundError : Error;
    throw new Class(`failed to try resolving symlinks in path ${JSON.stringify(path)}: ${(err as Error).message}`, { cause: err });
  }
  let fh: FileHandle;
  try {
    fh = await open(real, "r");
  } catch (err) {
    throw new Error(`failed to open log file ${JSON.stringify(real)}: ${(err as Error).message}`, { cause: err });
  }
  const clock = opts.clock ?? realClock;
  const tail = opts.tailLines ?? -1;
  const limited = tail >= 0 && !opts.follow;
  let left = tail;
  const writer = new LogWriter(out, opts);
  let watcher: FSWatcher | undefined;
  const reader = new LineReader(fh, await tailLineStart(fh, tail));
  let isNewLine = true;
  let running = true;

  const emit = async (line: Buffer): Promise<void> => {
    let msg: CriLogMessage;
    try {
      msg = parseCriLogLine(line);
    } catch {
      return; // the kubelet skips a line it cannot parse
    }
    await writer.write(msg, isNewLine);
    if (limited) left--;
    isNewLine = msg.log.length === 0 || msg.log[msg.log.length - 1] === 0x0a;
  };

  try {
    for (;;) {
      if (opts.signal?.aborted || (limited && left === 0)) {
        await writer.flush();
        return;
      }
      const line = await reader.next();
      if (line) {
        await emit(line);
        continue;
      }
      if (!opts.follow) {
        const rest = reader.takeRest();
        if (rest.length > 0) await emit(rest);
        await writer.flush();
        return;
      }
      await writer.flush();
      if (!running) return; // the container had stopped and everything is read
      // Rotated: the path now names a new file. What the old one still held has been read.
      const ino = await inodeOf(real);
      if (ino !== undefined && ino !== (await reader.fh.stat()).ino) {
        const rest = reader.takeRest();
        if (rest.length > 0) await emit(rest);
        const next = await open(real, "r");
        await reader.fh.close();
        reader.switchTo(next);
        continue;
      }
      running = (await opts.isRunning?.()) ?? false;
      if (!running) continue; // one more pass to the end of the file
      if (!watcher) {
        // Read once more after watching starts: a write just before would have no event.
        watcher = watch(dirname(real), { persistent: false }).on("error", () => undefined);
        continue;
      }
      await waitForChange(watcher, clock, opts.signal);
    }
  } catch (err) {
    if (err instanceof MaximumWrite) return;
    if ((err as Error).message === "output closed") return;
    throw err;
  } finally {
    watcher?.close();
    await reader.fh.close();
  }
}
