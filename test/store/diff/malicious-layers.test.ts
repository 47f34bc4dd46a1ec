/**
 * A corpus of hostile layers, each built here. Every one must fail with a message naming the
 * entry and the rule, and leave everything outside the extraction directory as it was: a
 * sentinel directory beside it (which the layers' links point at) is compared byte for byte,
 * and no new file may appear anywhere in the temporary parent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readFile, utimes, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { applyLayer } from "../../../src/store/diff/apply-layer.js";
import { decompress } from "../../../src/store/diff/decompress.js";
import { END, chunked, fingerprint, isResourceExhausted, rawEntry, rawHeader, rawPax, removeAll, tarOf, tempDir } from "../helpers.js";

const MiB = 1024 * 1024;

interface Sandbox {
  parent: string;
  dir: string;
  sentinel: string;
  /** A name no one else uses, for links that point at the parent's parent. */
  stray: string;
}

async function sandbox(): Promise<Sandbox> {
  const parent = await tempDir("podyard-evil-");
  const dir = join(parent, "dir");
  const sentinel = join(parent, "sentinel");
  await mkdir(dir);
  await mkdir(join(sentinel, "sub"), { recursive: true });
  await writeFile(join(sentinel, "file"), "sentinel content");
  await writeFile(join(sentinel, "sub", "inner"), "inner content");
  await chmod(join(sentinel, "file"), 0o640);
  await utimes(sentinel, 1_000_000, 1_000_000);
  return { parent, dir, sentinel, stray: `podyard-stray-${randomBytes(6).toString("hex")}` };
}

/** Runs `fn` and checks that nothing outside `dir` changed. */
async function contained(fn: (s: Sandbox) => Promise<void>): Promise<void> {
  const s = await sandbox();
  try {
    const before = await fingerprint(s.parent, ["dir"]);
    await fn(s);
    assert.deepEqual(await fingerprint(s.parent, ["dir"]), before, "nothing outside the extraction directory changed");
    for (const p of [join(dirname(s.parent), s.stray), join("/", s.stray), join("/etc", s.stray)]) {
      await assert.rejects(lstat(p), /ENOENT/, `${p} must not exist`);
    }
  } finally {
    await removeAll(s.parent);
    await removeAll(join(dirname(s.parent), s.stray)); // only there if a regression let a write escape
  }
}

interface Case {
  name: string;
  /** The entry the error must name. */
  entry: string;
  rule: RegExp;
  layer(s: Sandbox): Promise<Buffer> | Buffer;
  opts?: { maxBytes?: number };
  exhausted?: boolean;
}

const file = (name: string, content = "pwned"): Parameters<typeof tarOf>[0][number] => ({ name, content });

const cases: Case[] = [
  { name: "../ traversal", entry: "../escape", rule: /escapes the layer root/, layer: () => tarOf([file("../escape")]) },
  { name: "traversal after a directory", entry: "a/../../escape", rule: /escapes the layer root/, layer: () => tarOf([file("a/../../escape")]) },
  { name: "absolute name with traversal", entry: "/abs/../../escape", rule: /escapes the layer root/, layer: () => Buffer.concat([rawEntry({ name: "/abs/../../escape" }, Buffer.from("x")), END]) },
  { name: "traversal through the stray name", entry: "../../podyard-stray", rule: /escapes the layer root/, layer: (s) => tarOf([file(`../../${s.stray}`)]) },
  {
    name: "write through an absolute symlink to outside", entry: "x/file", rule: /parent "x" is a symlink/,
    layer: (s) => tarOf([{ name: "x", type: "symlink", linkname: s.sentinel }, file("x/file")]),
  },
  {
    name: "write through a relative symlink to ../..", entry: "x/podyard-stray", rule: /parent "x" is a symlink/,
    layer: (s) => tarOf([{ name: "x", type: "symlink", linkname: "../.." }, file(`x/${s.stray}`)]),
  },
  {
    name: "directory replaced by a symlink, then written into", entry: "d/f", rule: /parent "d" is a symlink/,
    layer: (s) => tarOf([{ name: "d/", type: "directory" }, file("d/before"), { name: "d", type: "symlink", linkname: s.sentinel }, file("d/f")]),
  },
  {
    name: "nested directory replaced by a symlink, then a deeper write", entry: "a/b/c/f", rule: /parent "a\/b" is a symlink/,
    layer: (s) => tarOf([
      { name: "a/b/c/", type: "directory" }, file("a/b/c/ok"), { name: "a/b", type: "symlink", linkname: join(s.sentinel, "sub") }, file("a/b/c/f"),
    ]),
  },
  { name: "hardlink to ../../outside", entry: "h", rule: /hardlink target "..\/..\/outside" escapes the layer root/, layer: () => tarOf([{ name: "h", type: "link", linkname: "../../outside" }]) },
  { name: "hardlink to /etc/passwd", entry: "h", rule: /hardlink target "etc\/passwd" does not exist/, layer: () => tarOf([{ name: "h", type: "link", linkname: "/etc/passwd" }]) },
  {
    name: "hardlink to the sentinel's absolute path", entry: "h", rule: /does not exist/,
    layer: (s) => tarOf([{ name: "h", type: "link", linkname: join(s.sentinel, "file") }]),
  },
  {
    name: "hardlink through a symlinked parent", entry: "h", rule: /parent "s" is a symlink/,
    layer: (s) => tarOf([{ name: "s", type: "symlink", linkname: s.sentinel }, { name: "h", type: "link", linkname: "s/file" }]),
  },
  {
    name: "hardlink to a symlink pointing outside, then a write", entry: "h", rule: /hardlink target "s" is a symlink: only regular files/,
    layer: (s) => tarOf([{ name: "s", type: "symlink", linkname: join(s.sentinel, "file") }, { name: "h", type: "link", linkname: "s" }, file("h")]),
  },
  { name: "hardlink to a directory", entry: "h", rule: /is a directory/, layer: () => tarOf([{ name: "d/", type: "directory" }, { name: "h", type: "link", linkname: "d" }]) },
  { name: "hardlink to itself", entry: "h", rule: /hardlink to itself/, layer: () => tarOf([file("h"), { name: "h", type: "link", linkname: "./h" }]) },
  { name: "whiteout of ..", entry: ".wh...", rule: /whiteout of "\.\." names no entry/, layer: () => tarOf([file(".wh...", "")]) },
  { name: "whiteout of .", entry: "a/.wh..", rule: /whiteout of "\." names no entry/, layer: () => tarOf([{ name: "a/", type: "directory" }, file("a/.wh..", "")]) },
  { name: "whiteout of nothing", entry: "a/.wh.", rule: /whiteout of "" names no entry/, layer: () => tarOf([file("a/.wh.", "")]) },
  {
    name: "whiteout inside a symlinked directory", entry: "s/.wh.file", rule: /parent "s" is a symlink/,
    layer: (s) => tarOf([{ name: "s", type: "symlink", linkname: s.sentinel }, file("s/.wh.file", "")]),
  },
  {
    name: "opaque marker inside a symlinked directory", entry: "s/.wh..wh..opq", rule: /parent "s" is a symlink/,
    layer: (s) => tarOf([{ name: "s", type: "symlink", linkname: s.sentinel }, file("s/.wh..wh..opq", "")]),
  },
  {
    name: "a 10 MiB PAX header", entry: "PaxHeader/huge", rule: /PAX header of \d+ bytes is over the 1048576-byte limit/,
    layer: () => Buffer.concat([rawPax([["path", "a".repeat(10 * MiB)]], "PaxHeader/huge"), rawEntry({ name: "huge" }), END]),
  },
  {
    name: "a 2 MiB GNU long name", entry: "././@LongLink", rule: /GNU long-name header of \d+ bytes is over the 1048576-byte limit/,
    layer: () => Buffer.concat([rawEntry({ name: "././@LongLink", type: "L", magic: "gnu" }, Buffer.alloc(2 * MiB, 0x61)), rawEntry({ name: "x", magic: "gnu" }), END]),
  },
  {
    name: "a 5000-deep path", entry: "a/a/a/a", rule: /name is longer than 4096 bytes/,
    layer: () => Buffer.concat([rawPax([["path", `${"a/".repeat(5000)}f`]]), rawEntry({ name: "deep" }, Buffer.from("x")), END]),
  },
  {
    name: "a 300-deep path", entry: "a/a/a/a", rule: /name is deeper than 256 components/,
    layer: () => Buffer.concat([rawPax([["path", `${"a/".repeat(300)}f`]]), rawEntry({ name: "deep" }, Buffer.from("x")), END]),
  },
  {
    name: "a truncated archive", entry: "big", rule: /unexpected end of layer/,
    layer: async () => (await tarOf([file("small", "ok"), file("big", "b".repeat(5000))])).subarray(0, 1024 + 512 + 2000),
  },
  {
    name: "an archive without its end-of-archive marker", entry: "small", rule: /unexpected end of layer/,
    layer: async () => (await tarOf([file("small", "ok")])).subarray(0, 1024),
  },
  { name: "a NUL in a PAX path", entry: "a\u0000b", rule: /name contains a NUL byte/, layer: () => Buffer.concat([rawPax([["path", "a\0b"]]), rawEntry({ name: "x" }), END]) },
  {
    name: "a NUL in a symlink target", entry: "s", rule: /symlink target contains a NUL byte/,
    layer: () => Buffer.concat([rawPax([["linkpath", "/etc\0/passwd"]]), rawEntry({ name: "s", type: "2" }), END]),
  },
  { name: "a symlink named .", entry: ".", rule: /only a directory entry can name the layer root/, layer: (s) => tarOf([{ name: ".", type: "symlink", linkname: s.sentinel }]) },
  { name: "a file named /", entry: "/", rule: /only a directory entry can name the layer root/, layer: () => Buffer.concat([rawEntry({ name: "/" }, Buffer.from("x")), END]) },
  {
    name: "a bad header checksum", entry: "first", rule: /checksum mismatch/,
    layer: () => {
      const bad = rawEntry({ name: "second" });
      bad[0] = 0x53; // changed after the checksum was computed
      return Buffer.concat([rawEntry({ name: "first" }), bad, END]);
    },
  },
  { name: "a GNU sparse file", entry: "sparse", rule: /sparse files are not supported/, layer: () => Buffer.concat([rawEntry({ name: "sparse", type: "S", magic: "gnu" }), END]) },
  { name: "a name that is not UTF-8", entry: "f", rule: /not valid UTF-8/, layer: () => Buffer.concat([rawPax([["path", Buffer.from([0x66, 0xff, 0xfe])]]), rawEntry({ name: "x" }), END]) },
  {
    name: "a gzip bomb over the byte cap", entry: "bomb", rule: /limit of 1048576 uncompressed bytes \(at entry "bomb"\)/, exhausted: true, opts: { maxBytes: MiB },
    layer: async () => {
      const gz = createGzip({ level: 9 });
      const out: Buffer[] = [];
      const collecting = (async () => {
        for await (const c of gz as AsyncIterable<Buffer>) out.push(c);
      })();
      gz.write(rawHeader({ name: "bomb", size: 64 * MiB }));
      const zeros = Buffer.alloc(MiB);
      for (let i = 0; i < 64; i++) if (!gz.write(zeros)) await new Promise((r) => gz.once("drain", r));
      gz.end(END);
      await collecting;
      const blob = Buffer.concat(out);
      assert.ok(blob.length < MiB / 4, `the bomb is ${blob.length} bytes compressed`);
      return blob;
    },
  },
];

for (const c of cases) {
  test(`malicious layer: ${c.name}`, () => contained(async (s) => {
    const blob = await c.layer(s);
    const input: Readable = decompress(chunked(blob, 4096));
    await assert.rejects(applyLayer(s.dir, input, c.opts ?? {}), (err: unknown) => {
      assert.ok(c.exhausted ? isResourceExhausted(err) : isInvalidArgument(err), `error class of ${String(err)}`);
      const message = (err as Error).message;
      assert.match(message, c.rule);
      assert.ok(message.includes(JSON.stringify(c.entry).slice(1, -1)), `message ${JSON.stringify(message.slice(0, 300))} names ${JSON.stringify(c.entry)}`);
      return true;
    });
  }));
}

test("malicious layer: a file entry over a symlink to outside replaces the link and writes nothing outside", () => contained(async (s) => {
  await applyLayer(s.dir, chunked(await tarOf([
    { name: "f", type: "symlink", linkname: join(s.sentinel, "file") }, file("f", "replaced"),
    { name: "g", type: "symlink", linkname: "../sentinel/sub" }, { name: "g/", type: "directory", mode: 0o777 },
  ])));
  assert.equal(await readFile(join(s.dir, "f"), "utf8"), "replaced");
  assert.ok((await lstat(join(s.dir, "g"))).isDirectory());
}));

test("malicious layer: a directory replaced by a symlink gets no late chmod or utimes through the link", () => contained(async (s) => {
  await applyLayer(s.dir, chunked(await tarOf([
    { name: "d/", type: "directory", mode: 0o777, mtime: new Date(5_000_000) },
    { name: "d", type: "symlink", linkname: s.sentinel },
    { name: "e/", type: "directory", mode: 0o700 },
    { name: "e/sub/", type: "directory", mode: 0o777, mtime: new Date(5_000_000) },
    { name: "e", type: "symlink", linkname: s.sentinel },
  ])));
  assert.ok((await lstat(join(s.dir, "d"))).isSymbolicLink());
}));

test("malicious layer: whiteouts of this layer's own symlinks to outside delete nothing outside", () => contained(async (s) => {
  await applyLayer(s.dir, chunked(await tarOf([
    { name: "x", type: "symlink", linkname: s.sentinel }, file(".wh.x", ""),
    { name: "y", type: "symlink", linkname: join(s.sentinel, "file") }, file(".wh..wh..opq", ""),
  ])));
  assert.ok((await lstat(join(s.dir, "x"))).isSymbolicLink());
}));
