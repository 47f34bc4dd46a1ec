/**
 * The response plain-http.ts returns: the part of the WHATWG `Response` the registry
 * client uses (status, statusText, ok, url, headers.get/has/getSetCookie/iteration, body as a
 * ReadableStream, bodyUsed, arrayBuffer/text/json). The global Response and Headers
 * live in undici, which costs about 15 ms to load on first use: a command that pulls
 * from a plain-HTTP registry never needs it.
 */

/** True when the response to `method` with `status` carries no body (HEAD, 204, 304). */
export function hasNoBody(method: string, status: number): boolean {
  return method === "HEAD" || status === 204 || status === 304;
}

/** How fetch fails a request that got no usable response: `TypeError("fetch failed")` with the cause. */
export function fetchFailed(cause: unknown): TypeError {
  return new TypeError("fetch failed", { cause });
}

/** Response headers: names case-insensitive, repeated values joined with ", " as Headers does. */
export class PlainHeaders implements Iterable<[string, string]> {
  readonly #map = new Map<string, string[]>();

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const values = this.#map.get(key);
    if (values) values.push(value);
    else this.#map.set(key, [value]);
  }

  get(name: string): string | null {
    return this.#map.get(name.toLowerCase())?.join(", ") ?? null;
  }

  /** Each Set-Cookie value on its own (they may contain commas). */
  getSetCookie(): string[] {
    return [...(this.#map.get("set-cookie") ?? [])];
  }

  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }

  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this) fn(value, name);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of [...this.#map.keys()].sort()) yield [name, this.get(name) as string];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

export class PlainResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: PlainHeaders;
  readonly url: string;
  readonly body: ReadableStream<Uint8Array> | null;
  #used = false;

  constructor(init: { status: number; statusText: string; headers: PlainHeaders; url: string; body: ReadableStream<Uint8Array> | null }) {
    if (!Number.isInteger(init.status) || init.status < 200 || init.status > 599) throw new RangeError(`response status ${init.status} is outside 200-599`);
    this.status = init.status;
    this.statusText = init.statusText;
    this.headers = init.headers;
    this.url = init.url;
    this.body = init.body;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get bodyUsed(): boolean {
    return this.#used || (this.body?.locked ?? false);
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    return (await this.#bytes()).toString("utf8");
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async #bytes(): Promise<Buffer> {
    if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read");
    this.#used = true;
    if (this.body === null) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const c of this.body as unknown as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    return Buffer.concat(chunks);
  }
}
