/**
 * A reader of CRI log files (kuberuntime/logs ReadLogs), used until src/runtime's
 * readContainerLog (helper "volumes") is wired in: tail by file lines, since, stream, limitBytes,
 * timestamps, and follow that ends when the container stops and reopens a rotated file.
 */
import { open, stat } from "node:fs/promises";
import type { Writable } from "node:stream";
import type { ReadContainerLogOptions } from "./log-options.js";

interface Entry {
  /** Milliseconds since the epoch, and the nanosecond text for the timestamps prefix. */
  ms: number;
  stamp: string;
  stream: "stdout" | "stderr";
  full: boolean;
  text: Buffer;
}

const FOLLOW_POLL_MS = 100;

/** `2016-10-06T00:17:09.669794202Z` or `…+00:00` → ms and the prefix `2006-01-02T15:04:05.000000000Z07:00`. */
function parseTime(s: string): { ms: number; stamp: string } | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return undefined;
  const frac = (m[2] ?? "").padEnd(9, "0");
  const zone = m[3] === "+00:00" || m[3] === "-00:00" ? "Z" : (m[3] ?? "Z");
  const ms = Date.parse(`${m[1]}.${frac.slice(0, 3)}${m[3]}`);
  if (Number.isNaN(ms)) return undefined;
  return { ms, stamp: `${m[1]}.${frac}${zone}` };
}

function parseLine(line: Buffer): Entry | undefined {
  const sp1 = line.indexOf(0x20);
  const sp2 = sp1 < 0 ? -1 : line.indexOf(0x20, sp1 + 1);
  if (sp2 < 0) return undefined;
  const time = parseTime(line.subarray(0, sp1).toString("latin1"));
  const stream = line.subarray(sp1 + 1, sp2).toString("latin1");
  if (!time || (stream !== "stdout" && stream !== "stderr")) return undefined;
  const sp3 = line.indexOf(0x20, sp2 + 1);
  const tag = line.subarray(sp2 + 1, sp3 < 0 ? line.length : sp3).toString("latin1");
  const text = sp3 < 0 ? Buffer.alloc(0) : line.subarray(sp3 + 1);
  return { ...time, stream, full: tag !== "P", text };
}

/** The byte offset where the last `n` lines of `buf` start. */
function tailOffset(buf: Buffer, n: number): number {
  if (n === 0) return buf.length;
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === 0x0a && ++count === n) return i + 1;
  }
  return 0;
}

export async function readCriLog(path: string, opts: ReadContainerLogOptions, out: Writable): Promise<void> {
  let remaining = opts.limitBytes ?? Infinity;
  const write = async (data: Buffer): Promise<boolean> => {
    const part = data.length > remaining ? data.subarray(0, remaining) : data;
    remaining -= part.length;
    if (part.length > 0 && !out.write(part)) await new Promise<void>((r) => { out.once("drain", r); out.once("close", r); });
    return remaining > 0 && !opts.signal.aborted && !out.destroyed;
  };
  const emit = (e: Entry): Promise<boolean> | true => {
    if (opts.sinceTime !== undefined && e.ms < opts.sinceTime) return true;
    if (opts.stream === "Stdout" && e.stream !== "stdout") return true;
    if (opts.stream === "Stderr" && e.stream !== "stderr") return true;
    const parts = [opts.timestamps ? Buffer.from(`${e.stamp} `) : Buffer.alloc(0), e.text, e.full ? Buffer.from("\n") : Buffer.alloc(0)];
    return write(Buffer.concat(parts));
  };

  let file = await open(path, "r");
  try {
    let ino = (await file.stat()).ino;
    let pos = 0;
    let carry = Buffer.alloc(0);
    const first = await file.readFile();
    const start = opts.tailLines !== undefined ? tailOffset(first, opts.tailLines) : 0;
    let chunk = first.subarray(start);
    pos = first.length;
    for (;;) {
      const data = Buffer.concat([carry, chunk]);
      let lineStart = 0;
      for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, lineStart)) {
        const e = parseLine(data.subarray(lineStart, nl));
        lineStart = nl + 1;
        if (e && !(await emit(e))) return;
      }
      carry = data.subarray(lineStart);
      if (!opts.follow) return;
      // Follow: wait for more bytes, a rotation, or the container's end.
      for (;;) {
        if (opts.signal.aborted || out.destroyed) return;
        const size = (await file.stat()).size;
        if (size > pos) break;
        const now = await stat(path).catch(() => undefined);
        if (now && now.ino !== ino) {
          await file.close();
          file = await open(path, "r");
          ino = (await file.stat()).ino;
          pos = 0;
          carry = Buffer.alloc(0);
          break;
        }
        if (!(await opts.isRunning())) {
          // One last read: the runtime may have written its final lines just before it stopped.
          if ((await file.stat()).size > pos) break;
          return;
        }
        try {
          await opts.clock.sleep(FOLLOW_POLL_MS, opts.signal);
        } catch {
          return;
        }
      }
      const size = (await file.stat()).size;
      const buf = Buffer.alloc(size - pos);
      const { bytesRead } = await file.read(buf, 0, buf.length, pos);
      pos += bytesRead;
      chunk = buf.subarray(0, bytesRead);
    }
  } finally {
    await file.close().catch(() => undefined);
  }
}
