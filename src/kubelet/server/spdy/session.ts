/**
 * The server end of a SPDY/3.1 connection, as moby/spdystream behaves (no flow control: it
 * neither sends nor honours WINDOW_UPDATE). The peer opens streams (SYN_STREAM with headers);
 * the session answers each with an empty SYN_REPLY, echoes the peer's PINGs, and hands every
 * stream to `onStream`.
 */
import type { Duplex } from "node:stream";
import { controlFrame, dataFrame, FLAG_FIN, type Frame, FrameReader, FrameType, MAX_DATA_LENGTH, RstStatus, u32 } from "./frames.js";
import { HeaderCodec, type SpdyHeaders } from "./header-codec.js";

export interface SpdyStream {
  id: number;
  headers: SpdyHeaders;
  /** Data from the peer; `null` when the peer half-closed (FIN) or reset the stream. */
  onData: (data: Buffer | null) => void;
  /** Called once when the peer resets the stream or the session ends. */
  onReset: () => void;
  write(data: Buffer): void;
  /** Half-closes our side (an empty DATA frame with FIN). */
  end(): void;
  reset(status?: number): void;
}

export class SpdySession {
  readonly #conn: Duplex;
  readonly #codec = new HeaderCodec();
  readonly #reader = new FrameReader();
  readonly #streams = new Map<number, SpdyStream & { localClosed: boolean }>();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #onStream: (s: SpdyStream) => void;

  constructor(conn: Duplex, onStream: (s: SpdyStream) => void) {
    this.#conn = conn;
    this.#onStream = onStream;
    conn.on("data", (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.#reader.push(chunk);
      } catch {
        this.close();
        return;
      }
      // Header blocks share one zlib context, so frames are handled strictly in order.
      for (const f of frames) this.#queue = this.#queue.then(() => this.#handle(f)).catch(() => this.close());
    });
    conn.on("error", () => this.close());
    conn.on("close", () => this.close());
    conn.on("end", () => this.close());
  }

  /** Ends the connection after what was written has gone out (the exec is over). */
  end(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams.values()) s.onReset();
    this.#streams.clear();
    this.#codec.close();
    this.#conn.end();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#streams.values()) s.onReset();
    this.#streams.clear();
    this.#codec.close();
    this.#conn.destroy();
  }

  #send(frame: Buffer): void {
    if (!this.#closed && this.#conn.writable) this.#conn.write(frame);
  }

  async #handle(f: Frame): Promise<void> {
    if (this.#closed) return;
    if (!f.control) {
      const s = this.#streams.get(f.streamId);
      if (!s) return;
      if (f.data.length > 0) s.onData(f.data);
      if (f.flags & FLAG_FIN) s.onData(null);
      return;
    }
    const p = f.payload;
    switch (f.type) {
      case FrameType.SYN_STREAM: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const headers = await this.#codec.decode(p.subarray(10));
        const stream = this.#newStream(id, headers);
        this.#streams.set(id, stream);
        // The reply goes first so that the peer's WaitTimeout on stream creation returns.
        const block = await this.#codec.encode(new Map());
        this.#send(controlFrame(FrameType.SYN_REPLY, 0, Buffer.concat([u32(id), block])));
        this.#onStream(stream);
        if (f.flags & FLAG_FIN) stream.onData(null);
        return;
      }
      case FrameType.HEADERS:
        await this.#codec.decode(p.subarray(4));
        return;
      case FrameType.RST_STREAM: {
        const id = p.readUInt32BE(0) & 0x7fffffff;
        const s = this.#streams.get(id);
        this.#streams.delete(id);
        s?.onReset();
        return;
      }
      case FrameType.PING:
        // Peer-initiated pings (odd ids from a client) are echoed back unchanged.
        this.#send(controlFrame(FrameType.PING, 0, p.subarray(0, 4)));
        return;
      case FrameType.GOAWAY:
        this.close();
        return;
      case FrameType.SYN_REPLY:
        await this.#codec.decode(p.subarray(4));
        return;
      default:
        // SETTINGS, WINDOW_UPDATE and unknown types: nothing to do without flow control.
        return;
    }
  }

  #newStream(id: number, headers: SpdyHeaders): SpdyStream & { localClosed: boolean } {
    const stream = {
      id,
      headers,
      localClosed: false,
      onData: (_d: Buffer | null): void => undefined,
      onReset: (): void => undefined,
      write: (data: Buffer): void => {
        if (stream.localClosed) return;
        for (let off = 0; off < data.length; off += MAX_DATA_LENGTH) this.#send(dataFrame(id, 0, data.subarray(off, off + MAX_DATA_LENGTH)));
      },
      end: (): void => {
        if (stream.localClosed) return;
        stream.localClosed = true;
        this.#send(dataFrame(id, FLAG_FIN, Buffer.alloc(0)));
      },
      reset: (status: number = RstStatus.CANCEL): void => {
        stream.localClosed = true;
        this.#streams.delete(id);
        this.#send(controlFrame(FrameType.RST_STREAM, 0, u32(id, status)));
      },
    };
    return stream;
  }
}
