/**
 * A strict streaming reader for layer tars (ustar, GNU and PAX, as Go's archive/tar reads
 * them). It is written for hostile input: every header's checksum is checked, PAX and GNU
 * long-name headers are capped before they are buffered, PAX values stay bytes (xattrs are
 * binary), names must be UTF-8, and an archive that ends before its end-of-archive marker
 * fails with "unexpected end of layer". Every byte read, including the padding after the
 * marker, is passed to `onData` (the caller hashes it: that is the diffID).
 */
import { InvalidArgumentError, ResourceExhaustedError } from "../../errdefs/index.js";

export type TarEntryType = "file" | "hardlink" | "symlink" | "char" | "block" | "dir" | "fifo";

export interface TarHeader {
  /** The name as stored (after PAX `path` / GNU long-name overrides), not yet normalised. */
  name: string;
  type: TarEntryType;
  /** Bytes of data; always 0 for types other than "file" (as Go's archive/tar). */
  size: number;
  /** Permission and special bits (0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, possibly fractional (PAX). */
  mtime: number;
  atime?: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from PAX `SCHILY.xattr.*` (and `LIBARCHIVE.xattr.*`) records. */
  xattrs: Map<string, Buffer>;
}

export interface TarReaderOptions {
  /** Called with every chunk read from the source, in order. */
  onData?: (chunk: Buffer) => void;
  /** Fail once the source gives more than this many bytes. */
  maxBytes?: number;
  /** Largest PAX or GNU long-name header accepted; default 1 MiB. */
  maxHeaderBytes?: number;
}

const BLOCK = 512;
const MAX_META_CHAIN = 16;
const utf8 = new TextDecoder("utf-8", { fatal: true });

function quote(s: string): string {
  return JSON.stringify(s);
}

const lossy = new TextDecoder("utf-8");

function decodeName(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new InvalidArgumentError(`layer entry ${quote(lossy.decode(bytes.subarray(0, 256)))}: ${what} is not valid UTF-8: such names are not supported`);
  }
}

function cString(block: Buffer, off: number, len: number): Buffer {
  const field = block.subarray(off, off + len);
  const nul = field.indexOf(0);
  return nul === -1 ? field : field.subarray(0, nul);
}

/** A numeric header field: octal text, or GNU base-256 when the high bit of the first byte is set. */
function numeric(block: Buffer, off: number, len: number, field: string): number {
  // The usual field: octal digits, maybe space-padded, ended by NUL, space or the field's end.
  let i = off;
  const end = off + len;
  while (i < end && block[i] === 0x20) i++;
  let n = 0;
  let digits = 0;
  for (; i < end; i++, digits++) {
    const d = (block[i] ?? 0) - 0x30;
    if (d < 0 || d > 7) break;
    n = n * 8 + d;
  }
  while (i < end && block[i] === 0x20) i++;
  if (digits > 0 && (i === end || block[i] === 0)) return n;
  return numericSlow(block, off, len, field);
}

function numericSlow(block: Buffer, off: number, len: number, field: string): number {
  const f = block.subarray(off, off + len);
  const first = f[0] ?? 0;
  if (first & 0x80) {
    let v = BigInt(first & 0x7f);
    for (const b of f.subarray(1)) v = (v << 8n) | BigInt(b);
    if (first === 0xff) v -= 1n << BigInt(8 * len - 1);
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`invalid tar header: ${field} out of range`);
    return n;
  }
  const text = f.toString("latin1").replace(/\0.*$/s, "").trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw new InvalidArgumentError(`invalid tar header: ${field} ${quote(text)} is not an octal number`);
  const n = parseInt(text, 8);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`invalid tar header: ${field} out of range`);
  return n;
}

function allZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function checksumOk(block: Buffer): boolean {
  const stored = numeric(block, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i] ?? 0;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  return stored === unsigned || stored === signed;
}

function decimal(value: Buffer, key: string, fractional: boolean): number {
  const text = value.toString("latin1");
  const ok = fractional ? /^-?[0-9]+(\.[0-9]+)?$/.test(text) : /^[0-9]+$/.test(text);
  const n = Number(text);
  if (!ok || !Number.isFinite(n) || (!fractional && !Number.isSafeInteger(n))) {
    throw new InvalidArgumentError(`invalid PAX record ${key}=${quote(text)}`);
  }
  return n;
}

/** PAX extended header records: `"<len> <key>=<value>\n"`, values kept as bytes. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // NUL padding
    const sp = data.indexOf(0x20, pos);
    const lenText = sp === -1 ? "" : data.subarray(pos, sp).toString("latin1");
    const len = /^[0-9]{1,10}$/.test(lenText) ? Number(lenText) : NaN;
    const end = pos + len;
    if (!Number.isSafeInteger(len) || len <= sp - pos + 1 || end > data.length || data[end - 1] !== 0x0a) {
      throw new InvalidArgumentError("invalid PAX header: malformed record");
    }
    const record = data.subarray(sp + 1, end - 1);
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new InvalidArgumentError("invalid PAX header: record without key");
    const key = decodeName(record.subarray(0, eq), "PAX record key");
    records.set(key, Buffer.from(record.subarray(eq + 1)));
    pos = end;
  }
  return records;
}

const TYPES: Record<string, TarEntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo",
};

interface Meta {
  pax: Map<string, Buffer>;
  longName?: string;
  longLink?: string;
}

export class TarReader {
  readonly #source: AsyncIterator<Buffer | Uint8Array>;
  readonly #onData: (chunk: Buffer) => void;
  readonly #maxBytes: number;
  readonly #maxHeader: number;
  #chunks: Buffer[] = [];
  #avail = 0;
  #read = 0;
  #eof = false;
  #bodyLeft = 0;
  #padLeft = 0;
  #bodyOpen = false;
  #done = false;
  #current = "";

  constructor(source: AsyncIterable<Buffer | Uint8Array>, opts: TarReaderOptions = {}) {
    this.#source = source[Symbol.asyncIterator]();
    this.#onData = opts.onData ?? (() => {});
    this.#maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    this.#maxHeader = opts.maxHeaderBytes ?? 1 << 20;
  }

  /** Bytes read from the source so far. */
  get bytesRead(): number {
    return this.#read;
  }

  /**
   * The next entry's header, or undefined after the end-of-archive marker. Whatever the caller
   * did not read of the previous entry's data is skipped.
   */
  async next(): Promise<TarHeader | undefined> {
    if (this.#done) return undefined;
    await this.#skip(this.#bodyLeft + this.#padLeft);
    this.#bodyLeft = 0;
    this.#padLeft = 0;
    this.#bodyOpen = false;
    const meta: Meta = { pax: new Map() };
    for (let chain = 0; ; chain++) {
      const block = await this.#exact(BLOCK);
      if (allZero(block)) {
        this.#done = true;
        return undefined;
      }
      if (!checksumOk(block)) throw new InvalidArgumentError(`invalid tar header after entry ${quote(this.#current)}: checksum mismatch`);
      const flag = String.fromCharCode(block[156] ?? 0);
      const size = numeric(block, 124, 12, "size");
      if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
        if (chain >= MAX_META_CHAIN) throw new InvalidArgumentError(`tar header after entry ${quote(this.#current)}: more than ${MAX_META_CHAIN} extended headers in a row`);
        const rawName = cString(block, 0, 100).toString("latin1");
        if (size > this.#maxHeader) {
          throw new InvalidArgumentError(`layer entry ${quote(rawName)}: ${flag === "x" || flag === "g" ? "PAX" : "GNU long-name"} header of ${size} bytes is over the ${this.#maxHeader}-byte limit`);
        }
        const data = await this.#exact(size); // maybe a view of the source's chunk: used before the next read
        if (flag === "x") for (const [k, v] of parsePax(data)) meta.pax.set(k, v);
        else if (flag === "L") meta.longName = decodeName(cString(data, 0, data.length), "long name");
        else if (flag === "K") meta.longLink = decodeName(cString(data, 0, data.length), "long link name");
        await this.#skip(padding(size));
        continue; // global PAX headers are read and ignored, as containerd does
      }
      const header = this.#header(block, flag, size, meta);
      this.#current = header.name;
      this.#bodyLeft = header.type === "file" ? header.size : 0;
      this.#padLeft = header.type === "file" ? padding(header.size) : 0;
      return header;
    }
  }

  /** The current entry's data; read it (or not) before calling next() again. */
  async *body(): AsyncGenerator<Buffer> {
    this.#openBody();
    while (this.#bodyLeft > 0) {
      if (this.#avail === 0 && !(await this.#pull())) throw this.#truncated();
      yield this.#bodyPiece();
    }
  }

  /**
   * The current entry's data, given to `sink` piece by piece as it arrives (what body()
   * gives, without an async generator per entry).
   */
  async readBody(sink: (chunk: Buffer) => void): Promise<void> {
    this.#openBody();
    while (this.#bodyLeft > 0) {
      if (this.#avail === 0 && !(await this.#pull())) throw this.#truncated();
      sink(this.#bodyPiece());
    }
  }

  #openBody(): void {
    if (this.#bodyOpen) throw new InvalidArgumentError(`layer entry ${quote(this.#current)}: data read twice`);
    this.#bodyOpen = true;
  }

  /** The next buffered piece of the current entry's data (some is buffered). */
  #bodyPiece(): Buffer {
    const first = this.#chunks[0] as Buffer;
    const n = Math.min(first.length, this.#bodyLeft);
    this.#consume(first, n);
    this.#bodyLeft -= n;
    return n === first.length ? first : first.subarray(0, n);
  }

  /** After the end-of-archive marker: reads (and so hashes) the rest of the source. */
  async drain(): Promise<void> {
    this.#chunks = [];
    this.#avail = 0;
    while (await this.#pull()) {
      this.#chunks = [];
      this.#avail = 0;
    }
  }

  #header(block: Buffer, flag: string, size: number, meta: Meta): TarHeader {
    let type = TYPES[flag];
    if (type === undefined) {
      const what = flag === "S" ? "GNU sparse files are" : `entry type ${quote(flag)} is`;
      throw new InvalidArgumentError(`layer entry ${quote(cString(block, 0, 100).toString("latin1"))}: ${what} not supported`);
    }
    const magic = block.subarray(257, 263).toString("latin1");
    let name = decodeName(cString(block, 0, 100), "name");
    if (magic === "ustar\0") {
      const prefix = decodeName(cString(block, 345, 155), "name prefix");
      if (prefix !== "") name = `${prefix}/${name}`;
    }
    let linkname = decodeName(cString(block, 157, 100), "link name");
    if (meta.longName !== undefined) name = meta.longName;
    if (meta.longLink !== undefined) linkname = meta.longLink;
    if (flag === "\0" && name.endsWith("/")) type = "dir"; // legacy archives mark directories with a slash
    const header: TarHeader = {
      name, type, size, linkname,
      mode: numeric(block, 100, 8, "mode") & 0o7777,
      uid: numeric(block, 108, 8, "uid"),
      gid: numeric(block, 116, 8, "gid"),
      mtime: numeric(block, 136, 12, "mtime"),
      devmajor: type === "char" || type === "block" ? numeric(block, 329, 8, "devmajor") : 0,
      devminor: type === "char" || type === "block" ? numeric(block, 337, 8, "devminor") : 0,
      xattrs: new Map(),
    };
    for (const [key, value] of meta.pax) {
      if (value.length === 0 && !key.includes("xattr.")) continue; // an empty value unsets the keyword
      if (key === "path") header.name = decodeName(value, "PAX path");
      else if (key === "linkpath") header.linkname = decodeName(value, "PAX linkpath");
      else if (key === "size") header.size = decimal(value, key, false);
      else if (key === "uid") header.uid = decimal(value, key, false);
      else if (key === "gid") header.gid = decimal(value, key, false);
      else if (key === "mtime") header.mtime = decimal(value, key, true);
      else if (key === "atime") header.atime = decimal(value, key, true);
      else if (key.startsWith("SCHILY.xattr.")) header.xattrs.set(key.slice("SCHILY.xattr.".length), value);
      else if (key.startsWith("LIBARCHIVE.xattr.")) {
        header.xattrs.set(decodeURIComponent(key.slice("LIBARCHIVE.xattr.".length)), Buffer.from(value.toString("latin1"), "base64"));
      } else if (key.startsWith("GNU.sparse.")) {
        throw new InvalidArgumentError(`layer entry ${quote(header.name)}: GNU sparse files are not supported`);
      }
    }
    if (header.type !== "file") header.size = 0; // header-only types carry no data (Go's archive/tar)
    return header;
  }

  #truncated(): InvalidArgumentError {
    const where = this.#current === "" ? "before the first entry" : `in or after entry ${quote(this.#current)}`;
    return new InvalidArgumentError(`unexpected end of layer ${where}: the tar stream is truncated`);
  }

  async #pull(): Promise<boolean> {
    if (this.#eof) return false;
    const r = await this.#source.next();
    if (r.done === true) {
      this.#eof = true;
      return false;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.#read += chunk.length;
    if (this.#read > this.#maxBytes) {
      const where = this.#current === "" ? "" : ` (at entry ${quote(this.#current)})`;
      throw new ResourceExhaustedError(`layer is larger than the limit of ${this.#maxBytes} uncompressed bytes${where}`);
    }
    this.#onData(chunk);
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#avail += chunk.length;
    }
    return true;
  }

  /** Drops the first `n` bytes of `first`, the first buffered chunk. */
  #consume(first: Buffer, n: number): void {
    if (n === first.length) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#avail -= n;
  }

  /** The next `n` bytes: a view of the source's chunk when they lie in one, else a copy. */
  async #exact(n: number): Promise<Buffer> {
    while (this.#avail < n) if (!(await this.#pull())) throw this.#truncated();
    if (n === 0) return Buffer.alloc(0);
    const first = this.#chunks[0] as Buffer;
    if (first.length >= n) {
      this.#consume(first, n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    for (let off = 0; off < n;) {
      const c = this.#chunks[0] as Buffer;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      this.#consume(c, k);
      off += k;
    }
    return out;
  }

  async #skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.#avail === 0 && !(await this.#pull())) throw this.#truncated();
      const first = this.#chunks[0] as Buffer;
      const k = Math.min(first.length, left);
      this.#consume(first, k);
      left -= k;
    }
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
