/**
 * The CRI log format (containerd `redirectLogs`, read by the kubelet's `parseCRILog`):
 * `<RFC3339Nano> <stdout|stderr> <F|P> <bytes>\n`. Timestamps may end in `Z` (containerd) or
 * `+00:00` (conmon); both are read, kept to the nanosecond with their offset.
 */

export type LogStream = "stdout" | "stderr";

export interface CriLogTime {
  /** Nanoseconds since the epoch. */
  nanos: bigint;
  /** The zone offset the line was written with, in minutes east of UTC. */
  offsetMinutes: number;
}

export interface CriLogMessage {
  time: CriLogTime;
  stream: LogStream;
  /** A `P` chunk: part of a longer line, continued by the next message. */
  partial: boolean;
  /** The text; a full line keeps its `\n` (as the kubelet writes it out), a partial one has none. */
  log: Buffer;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC3339(Nano) timestamp; undefined when it is not one. */
export function parseRFC3339Nano(text: string): CriLogTime | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = "", zone = "Z"] = m;
  const offsetMinutes = zone === "Z" ? 0 : (zone.startsWith("-") ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  const secs = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000 - offsetMinutes * 60;
  if (!Number.isFinite(secs)) return undefined;
  return { nanos: BigInt(secs) * 1_000_000_000n + BigInt(frac.padEnd(9, "0")), offsetMinutes };
}

function pad(n: number | bigint, w: number): string {
  return String(n).padStart(w, "0");
}

function wallClock(t: CriLogTime): { date: string; frac: string; zone: string } {
  const shifted = t.nanos + BigInt(t.offsetMinutes) * 60_000_000_000n;
  const secs = shifted / 1_000_000_000n - (shifted % 1_000_000_000n < 0n ? 1n : 0n);
  const frac = shifted - secs * 1_000_000_000n;
  const d = new Date(Number(secs) * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const off = Math.abs(t.offsetMinutes);
  const zone = t.offsetMinutes === 0 ? "Z" : `${t.offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(off / 60), 2)}:${pad(off % 60, 2)}`;
  return { date, frac: pad(frac, 9), zone };
}

/** `2006-01-02T15:04:05.000000000Z07:00`: the prefix `kubectl logs --timestamps` shows. */
export function formatLogTimestamp(t: CriLogTime): string {
  const { date, frac, zone } = wallClock(t);
  return `${date}.${frac}${zone}`;
}

/** Go's RFC3339Nano (trailing zeros of the fraction trimmed), as the runtime writes lines. */
export function formatRFC3339Nano(t: CriLogTime): string {
  const { date, frac, zone } = wallClock(t);
  const trimmed = frac.replace(/0+$/, "");
  return `${date}${trimmed ? "." + trimmed : ""}${zone}`;
}

/** Parses one line as read from the file (with its `\n`, if it had one); throws with the kubelet's text. */
export function parseCriLogLine(line: Buffer): CriLogMessage {
  const sp1 = line.indexOf(0x20);
  if (sp1 < 0) throw new Error("timestamp is not found");
  const tsText = line.subarray(0, sp1).toString("latin1");
  const time = parseRFC3339Nano(tsText);
  if (!time) throw new Error(`unexpected timestamp format "2006-01-02T15:04:05.999999999Z07:00": parsing time ${JSON.stringify(tsText)}`);
  const rest = line.subarray(sp1 + 1);
  const sp2 = rest.indexOf(0x20);
  if (sp2 < 0) throw new Error("stream type is not found");
  const stream = rest.subarray(0, sp2).toString("latin1");
  if (stream !== "stdout" && stream !== "stderr") throw new Error(`unexpected stream type ${JSON.stringify(stream)}`);
  let tail = rest.subarray(sp2 + 1);
  const sp3 = tail.indexOf(0x20);
  if (sp3 < 0) throw new Error("log tag is not found");
  // Tags may grow `:`-separated fields; the first says full or partial.
  const partial = tail.subarray(0, sp3).toString("latin1").split(":")[0] === "P";
  if (partial && tail.length > 0 && tail[tail.length - 1] === 0x0a) tail = tail.subarray(0, tail.length - 1);
  return { time, stream, partial, log: tail.subarray(sp3 + 1) };
}

/** Joins `P` chunks up to their `F`: whole lines with the first chunk's time and stream. */
export function joinPartials(messages: Iterable<CriLogMessage>): CriLogMessage[] {
  const out: CriLogMessage[] = [];
  let pending: CriLogMessage | undefined;
  for (const m of messages) {
    if (pending) pending = { ...pending, log: Buffer.concat([pending.log, m.log]), partial: m.partial };
    else pending = m;
    if (!m.partial) {
      out.push(pending);
      pending = undefined;
    }
  }
  if (pending) out.push(pending);
  return out;
}

/** One CRI log line for `data` (no newline inside); `partial` writes a `P` chunk. */
export function formatCriLogLine(time: CriLogTime, stream: LogStream, data: Buffer | string, partial = false): Buffer {
  return Buffer.concat([Buffer.from(`${formatRFC3339Nano(time)} ${stream} ${partial ? "P" : "F"} `), Buffer.from(data), Buffer.from("\n")]);
}

/** The default size after which the runtime cuts a line into `P` chunks. */
export const MAX_LOG_LINE_SIZE = 16 * 1024;

/**
 * Turns a stream's output into CRI log lines, as the runtime's log writer does: each `\n`-ended
 * line is `F`; a line longer than `maxLineSize` is cut into `P` chunks; `flush` writes what is left
 * as a final `P`.
 */
export class CriLogEncoder {
  #pending = Buffer.alloc(0);
  constructor(readonly stream: LogStream, readonly now: () => CriLogTime, readonly maxLineSize = MAX_LOG_LINE_SIZE) {}

  write(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (;;) {
      const nl = buf.indexOf(0x0a);
      if (nl >= 0 && nl <= this.maxLineSize) {
        out.push(formatCriLogLine(this.now(), this.stream, buf.subarray(0, nl)));
        buf = buf.subarray(nl + 1);
      } else if (buf.length > this.maxLineSize) {
        out.push(formatCriLogLine(this.now(), this.stream, buf.subarray(0, this.maxLineSize), true));
        buf = buf.subarray(this.maxLineSize);
      } else break;
    }
    this.#pending = Buffer.from(buf);
    return out;
  }

  flush(): Buffer[] {
    if (this.#pending.length === 0) return [];
    const line = formatCriLogLine(this.now(), this.stream, this.#pending, true);
    this.#pending = Buffer.alloc(0);
    return [line];
  }
}

/** A CriLogTime for a clock reading in milliseconds (UTC). */
export function logTimeFromMillis(ms: number): CriLogTime {
  return { nanos: BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6)), offsetMinutes: 0 };
}
