import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { decompress, detectCompression } from "../../../src/store/diff/decompress.js";
import { chunked, isResourceExhausted, run } from "../helpers.js";

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

const zstd = (data: Buffer, ...args: string[]): Promise<Buffer> => run("zstd", ["-q", "-c", ...args], data);

test("detectCompression: by magic number only", () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 0x08, 0x00])), "gzip");
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), "zstd");
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f])), "none");
  assert.equal(detectCompression(Buffer.from("ustar")), "none");
  assert.equal(detectCompression(Buffer.alloc(0)), "none");
});

test("decompress: gzip, zstd and plain give the original bytes, in any chunking", async () => {
  const data = Buffer.concat([randomBytes(100_000), Buffer.alloc(300_000, 7)]);
  const blobs = [data, gzipSync(data), await zstd(data), await zstd(data, "-19")];
  for (const blob of blobs) {
    for (const size of [1, 3, 4096, 1 << 20]) {
      if (size === 1 && blob.length > 200_000) continue;
      assert.ok((await collect(decompress(chunked(blob, size)))).equals(data), `chunks of ${size}`);
    }
  }
  assert.deepEqual(await collect(decompress(chunked(Buffer.from("ab")))), Buffer.from("ab"));
  assert.deepEqual(await collect(decompress(chunked(Buffer.alloc(0)))), Buffer.alloc(0));
});

test("decompress: concatenated gzip members and zstd frames (with a skippable frame between) are one stream", async () => {
  const a = Buffer.from("first part|");
  const b = Buffer.from("second part");
  assert.equal((await collect(decompress(chunked(Buffer.concat([gzipSync(a), gzipSync(b)]), 5)))).toString(), "first part|second part");
  const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([5, 0, 0, 0]), Buffer.from("skip!")]);
  const frames = Buffer.concat([await zstd(a), skippable, await zstd(b)]);
  assert.equal((await collect(decompress(chunked(frames, 5)))).toString(), "first part|second part");
});

test("decompress: truncated or corrupt data fails with InvalidArgument", async () => {
  const data = randomBytes(50_000);
  const gz = gzipSync(data);
  const zs = await zstd(data);
  for (const blob of [gz.subarray(0, gz.length - 100), zs.subarray(0, zs.length - 100), zs.subarray(0, 6)]) {
    await assert.rejects(collect(decompress(chunked(blob))), (err: unknown) => isInvalidArgument(err) && /unexpected end of layer/.test(String(err)));
  }
  const corrupt = Buffer.from(gz);
  corrupt.fill(0x55, 100, 400);
  await assert.rejects(collect(decompress(chunked(corrupt))), isInvalidArgument);
  const badZstd = Buffer.concat([zs.subarray(0, 4), Buffer.from([0x08])]);
  await assert.rejects(collect(decompress(chunked(badZstd))), (err: unknown) => isInvalidArgument(err) && /reserved frame header bit/.test(String(err)));
});

test("decompress: more decompressed bytes than maxBytes fail with ResourceExhausted", async () => {
  const big = Buffer.alloc(8 << 20);
  for (const blob of [big, gzipSync(big), await zstd(big)]) {
    assert.ok(blob === big || blob.length < 1 << 20);
    await assert.rejects(collect(decompress(chunked(blob), { maxBytes: 1 << 20 })), (err: unknown) => isResourceExhausted(err) && /more than the limit of 1048576 bytes/.test(String(err)));
  }
  assert.equal((await collect(decompress(chunked(gzipSync(big)), { maxBytes: 8 << 20 }))).length, 8 << 20);
});

test("decompress: a zstd frame asking for a window over the limit is refused before decoding", async () => {
  const data = randomBytes(300_000);
  const longWindow = await zstd(data, "--long=27"); // from a pipe: size unknown, so the frame declares the 128 MiB window
  await assert.rejects(collect(decompress(chunked(longWindow), { maxZstdWindow: 8 << 20 })), (err: unknown) => isInvalidArgument(err) && /134217728-byte window/.test(String(err)));
  assert.ok((await collect(decompress(chunked(longWindow)))).equals(data), "the default limit is zstd's own 128 MiB");
});

test("decompress: an error of the source reaches the reader", async () => {
  async function* failing(): AsyncGenerator<Buffer> {
    yield gzipSync(Buffer.from("partial")).subarray(0, 12);
    throw new Error("connection reset");
  }
  await assert.rejects(collect(decompress(failing())), /connection reset/);
});

test("decompress: a gzip input chunk goes to `recycle` only once inflating is done with it (overwriting it then changes nothing)", async () => {
  const original = Buffer.concat([randomBytes(1 << 20), Buffer.from("0123456789".repeat(200_000))]);
  const gz = gzipSync(original);
  const recycled: Buffer[] = [];
  let fed = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let at = 0; at < gz.length; at += 100_000) {
      fed++;
      yield Buffer.from(gz.subarray(at, at + 100_000));
    }
  }
  const out: Buffer[] = [];
  const recycle = (c: Buffer): void => {
    recycled.push(c);
    c.fill(0xaa); // as if the next read reused it at once
  };
  for await (const c of decompress(chunks(), { recycle })) out.push(c as Buffer);
  assert.ok(Buffer.concat(out).equals(original));
  assert.equal(recycled.length, fed, "every input chunk, once");
});
