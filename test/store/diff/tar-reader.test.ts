import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { TarReader, type TarHeader } from "../../../src/store/diff/tar-reader.js";
import { END, chunked, rawEntry, rawHeader, rawPax, tarOf } from "../helpers.js";

interface Read {
  header: TarHeader;
  body: string;
}

async function readAll(tar: Buffer, opts: { skipBodies?: boolean; chunk?: number } = {}): Promise<{ entries: Read[]; hashed: string; bytes: number }> {
  const hash = createHash("sha256");
  const reader = new TarReader(chunked(tar, opts.chunk ?? 100), { onData: (c) => hash.update(c) });
  const entries: Read[] = [];
  for (let h = await reader.next(); h !== undefined; h = await reader.next()) {
    const parts: Buffer[] = [];
    if (!opts.skipBodies) for await (const c of reader.body()) parts.push(c);
    entries.push({ header: h, body: Buffer.concat(parts).toString() });
  }
  await reader.drain();
  return { entries, hashed: hash.digest("hex"), bytes: reader.bytesRead };
}

/** A header block with a field overwritten (and the checksum recomputed). */
function patch(block: Buffer, off: number, bytes: Buffer): Buffer {
  const b = Buffer.from(block);
  bytes.copy(b, off);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return b;
}

test("TarReader: reads what tar-stream writes, and every byte (trailing padding too) passes onData", async () => {
  const tar = Buffer.concat([await tarOf([
    { name: "dir/", type: "directory", mode: 0o1777, uid: 3, gid: 4 },
    { name: "dir/file", content: "hello", mode: 0o4755, mtime: new Date(1_234_567_000) },
    { name: "link", type: "link", linkname: "dir/file" },
    { name: "sym", type: "symlink", linkname: "/abs/target" },
    { name: "dev", type: "character-device", devmajor: 4, devminor: 64 },
    { name: "p".repeat(150), content: "long name, ustar prefix field" },
    { name: "q".repeat(300), content: "longer than ustar allows: PAX path" },
  ]), Buffer.alloc(4096)]);
  for (const skipBodies of [false, true]) {
    const { entries, hashed, bytes } = await readAll(tar, { skipBodies, chunk: 77 });
    assert.equal(hashed, createHash("sha256").update(tar).digest("hex"));
    assert.equal(bytes, tar.length);
    assert.deepEqual(entries.map((e) => [e.header.name, e.header.type, skipBodies ? "" : e.body]), [
      ["dir/", "dir", ""], ["dir/file", "file", skipBodies ? "" : "hello"], ["link", "hardlink", ""], ["sym", "symlink", ""], ["dev", "char", ""],
      ["p".repeat(150), "file", skipBodies ? "" : "long name, ustar prefix field"], ["q".repeat(300), "file", skipBodies ? "" : "longer than ustar allows: PAX path"],
    ]);
    const [dir, file, link, sym, dev] = entries.map((e) => e.header);
    assert.deepEqual([dir?.mode, dir?.uid, dir?.gid], [0o1777, 3, 4]);
    assert.deepEqual([file?.mode, file?.mtime, file?.size], [0o4755, 1_234_567, 5]);
    assert.equal(link?.linkname, "dir/file");
    assert.equal(sym?.linkname, "/abs/target");
    assert.deepEqual([dev?.devmajor, dev?.devminor], [4, 64]);
  }
});

test("TarReader: GNU long names and links, base-256 numbers, PAX times and global headers", async () => {
  const bigUid = patch(rawHeader({ name: "big-uid" }), 108, Buffer.from([0x80, 0, 0, 0, 0, 0x12, 0x34, 0x56]));
  const tar = Buffer.concat([
    rawEntry({ name: "././@LongLink", type: "L", magic: "gnu" }, Buffer.from(`${"n".repeat(200)}\0`)),
    rawEntry({ name: "././@LongLink", type: "K", magic: "gnu" }, Buffer.from(`${"t".repeat(180)}\0`)),
    rawEntry({ name: "short", type: "2", magic: "gnu" }),
    bigUid,
    rawEntry({ name: "pax_global_header", type: "g" }, Buffer.from("18 comment=global\n")),
    rawPax([["mtime", "1700000000.25"], ["atime", "1600000000.5"], ["uid", "4000000000"], ["SCHILY.xattr.user.a", "1"]]),
    rawEntry({ name: "pax" }),
    END,
  ]);
  const { entries } = await readAll(tar);
  assert.deepEqual(entries.map((e) => e.header.name), ["n".repeat(200), "big-uid", "pax"]);
  assert.equal(entries[0]?.header.linkname, "t".repeat(180));
  assert.equal(entries[1]?.header.uid, 0x123456);
  const pax = entries[2]?.header;
  assert.deepEqual([pax?.mtime, pax?.atime, pax?.uid], [1_700_000_000.25, 1_600_000_000.5, 4_000_000_000]);
  assert.deepEqual(pax?.xattrs, new Map([["user.a", Buffer.from("1")]]));
});

test("TarReader: header-only types carry no data whatever their size field says (as Go's archive/tar)", async () => {
  const dirWithSize = rawHeader({ name: "d/", type: "5", size: 512 });
  const tar = Buffer.concat([dirWithSize, rawEntry({ name: "next" }, Buffer.from("x")), END]);
  const { entries } = await readAll(tar);
  assert.deepEqual(entries.map((e) => [e.header.name, e.header.size]), [["d/", 0], ["next", 1]]);
  const legacyDir = rawHeader({ name: "old/", type: "\0" });
  assert.deepEqual((await readAll(Buffer.concat([legacyDir, END]))).entries.map((e) => e.header.type), ["dir"]);
});

test("TarReader: malformed input fails with InvalidArgument", async () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ["empty", Buffer.alloc(0), /unexpected end of layer before the first entry/],
    ["half a header", rawHeader({ name: "a" }).subarray(0, 300), /unexpected end of layer/],
    ["data cut short", Buffer.concat([rawHeader({ name: "a", size: 2000 }), Buffer.alloc(1000)]), /unexpected end of layer in or after entry "a"/],
    ["no end marker", rawEntry({ name: "a" }, Buffer.from("x")), /unexpected end of layer/],
    ["bad octal", patch(rawHeader({ name: "a" }), 124, Buffer.from("12x4\0")), /size "12x4" is not an octal number/],
    ["bad PAX record length", Buffer.concat([rawEntry({ name: "p", type: "x" }, Buffer.from("99 path=a\n")), rawEntry({ name: "a" }), END]), /malformed record/],
    ["PAX record without =", Buffer.concat([rawEntry({ name: "p", type: "x" }, Buffer.from("9 pathaa\n")), rawEntry({ name: "a" }), END]), /record without key/],
    ["bad PAX number", Buffer.concat([rawPax([["size", "12abc"]]), rawEntry({ name: "a" }), END]), /invalid PAX record size="12abc"/],
    ["unknown type", Buffer.concat([rawEntry({ name: "weird", type: "Z" }), END]), /entry type "Z" is not supported/],
    ["too many extended headers", Buffer.concat([...Array.from({ length: 20 }, () => rawPax([["comment", "x"]])), rawEntry({ name: "a" }), END]), /more than 16 extended headers/],
  ];
  for (const [name, tar, rule] of cases) {
    await assert.rejects(readAll(tar), (err: unknown) => isInvalidArgument(err) && rule.test((err as Error).message), name);
  }
});

test("TarReader: readBody gives what body() gives, across chunk boundaries, and data is read once", async () => {
  const tar = await tarOf([
    { name: "a", content: "x".repeat(1000) },
    { name: "empty", content: "" },
    { name: "b", content: Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251)) },
  ]);
  for (const chunk of [1, 77, 512, 1 << 20]) {
    const reader = new TarReader(chunked(tar, chunk));
    const got: Array<[string, Buffer]> = [];
    for (let h = await reader.next(); h !== undefined; h = await reader.next()) {
      const parts: Buffer[] = [];
      await reader.readBody((c) => parts.push(Buffer.from(c)));
      got.push([h.name, Buffer.concat(parts)]);
      await assert.rejects(reader.readBody(() => {}), /data read twice/);
    }
    assert.deepEqual(got.map(([n, b]) => [n, b.length]), [["a", 1000], ["empty", 0], ["b", 3000]], `chunks of ${chunk}`);
    assert.equal(got[0]?.[1].toString(), "x".repeat(1000));
    assert.equal(got[2]?.[1][2999], 2999 % 251);
  }
});

test("TarReader: octal fields padded with spaces or NULs, in every style tar writers use", async () => {
  const styles: Array<[string, number]> = [["0000644\0", 0o644], ["   644 \0", 0o644], ["644\0\0\0\0\0", 0o644], ["0000644 ", 0o644], ["\0\0\0\0\0\0\0\0", 0], ["        ", 0]];
  for (const [field, mode] of styles) {
    const tar = Buffer.concat([patch(rawHeader({ name: "f" }), 100, Buffer.from(field, "latin1")), END]);
    const { entries } = await readAll(tar);
    assert.equal(entries[0]?.header.mode, mode, JSON.stringify(field));
  }
  const bad = Buffer.concat([patch(rawHeader({ name: "f" }), 100, Buffer.from("06 44\0\0\0", "latin1")), END]);
  await assert.rejects(readAll(bad), (err: unknown) => isInvalidArgument(err) && /mode "06 44" is not an octal number/.test((err as Error).message));
});
