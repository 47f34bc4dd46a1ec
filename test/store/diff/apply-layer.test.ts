import { test } from "node:test";
import assert from "node:assert/strict";
import { lstat, mkdir, readFile, readlink, readdir, symlink, writeFile, link } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { isFailedPrecondition, isInvalidArgument } from "../../../src/errdefs/index.js";
import { digestOf } from "../../../src/oci/digest.js";
import { applyLayer } from "../../../src/store/diff/apply-layer.js";
import { decompress } from "../../../src/store/diff/decompress.js";
import {
  END, chunked, fingerprint, getXattr, isResourceExhausted, isRoot, listTree, rawEntry, rawPax, removeAll, run, tarOf, tempDir, unmount, type TestEntry,
} from "../helpers.js";

const NEEDS_ROOT = isRoot ? false : "needs root (devices, ownership, trusted xattrs, mounts)";
const T = (s: number): Date => new Date(s * 1000);

async function withDirs(n: number, fn: (...dirs: string[]) => Promise<void>): Promise<void> {
  const base = await tempDir();
  const dirs = Array.from({ length: n }, (_, i) => join(base, `d${i}`));
  try {
    for (const d of dirs) await mkdir(d);
    await fn(...dirs);
  } finally {
    await removeAll(base);
  }
}

test("applyLayer: files, directories, symlinks, hardlinks, devices and FIFOs keep owners, modes and times", { skip: NEEDS_ROOT }, () => withDirs(1, async (dir) => {
  const entries: TestEntry[] = [
    { name: "etc/", type: "directory", mode: 0o755, mtime: T(1_600_000_000) },
    { name: "etc/passwd", content: "root:x:0:0::/root:/bin/sh\n", mtime: T(1_600_000_001) },
    { name: "bin/", type: "directory", mode: 0o755 },
    { name: "bin/busybox", content: "#!busybox", mode: 0o755 },
    { name: "bin/su", content: "su", mode: 0o4755, mtime: T(1_600_000_002) },
    { name: "bin/sh", type: "symlink", linkname: "busybox", uid: 7, gid: 8, mtime: T(1_600_000_003) },
    { name: "bin/passwd-copy", type: "link", linkname: "etc/passwd" },
    { name: "abs", type: "symlink", linkname: "/etc/passwd" },
    { name: "dangling", type: "symlink", linkname: "../../../../nowhere" },
    { name: "home/u/", type: "directory", mode: 0o700, uid: 1234, gid: 5678, mtime: T(1_500_000_000) },
    { name: "home/u/notes", content: "mine", mode: 0o600, uid: 1234, gid: 5678 },
    { name: "tmp/", type: "directory", mode: 0o1777 },
    { name: "srv/", type: "directory", mode: 0o2775, gid: 50 },
    { name: "dev/null", type: "character-device", devmajor: 1, devminor: 3, mode: 0o666 },
    { name: "dev/loop9", type: "block-device", devmajor: 7, devminor: 9, mode: 0o660, gid: 6 },
    { name: "run/fifo", type: "fifo", mode: 0o620 },
    { name: "ro/", type: "directory", mode: 0o555 },
    { name: "ro/inside", content: "written before the directory became read-only" },
  ];
  const tar = await tarOf(entries);
  const applied = await applyLayer(dir, chunked(tar, 7));
  assert.deepEqual(applied, { diffID: digestOf(tar), size: tar.length });

  assert.deepEqual(await listTree(dir), [
    "l abs -> /etc/passwd", "d bin", "f bin/busybox", "f bin/passwd-copy", "l bin/sh -> busybox", "f bin/su", "l dangling -> ../../../../nowhere",
    "d dev", "b dev/loop9", "c dev/null 1:3", "d etc", "f etc/passwd", "d home", "d home/u", "f home/u/notes", "d ro", "f ro/inside",
    "d run", "p run/fifo", "d srv", "d tmp",
  ]);
  const st = async (p: string): Promise<{ mode: number; uid: number; gid: number; mtime: number; nlink: number; ino: number }> => {
    const s = await lstat(join(dir, p));
    return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, mtime: s.mtimeMs / 1000, nlink: s.nlink, ino: s.ino };
  };
  assert.deepEqual(await st("etc"), { ...(await st("etc")), mode: 0o755, mtime: 1_600_000_000 }, "directory times are set last");
  assert.equal((await st("etc/passwd")).mtime, 1_600_000_001);
  assert.equal((await st("bin/su")).mode, 0o4755, "setuid kept");
  assert.equal((await st("bin/su")).mtime, 1_600_000_002);
  assert.deepEqual(await st("bin/sh"), { ...(await st("bin/sh")), uid: 7, gid: 8, mtime: 1_600_000_003 });
  assert.equal(await readlink(join(dir, "bin/sh")), "busybox");
  assert.equal((await st("bin/passwd-copy")).ino, (await st("etc/passwd")).ino, "hardlink shares the inode");
  assert.equal((await st("etc/passwd")).nlink, 2);
  assert.deepEqual(await st("home/u"), { ...(await st("home/u")), mode: 0o700, uid: 1234, gid: 5678, mtime: 1_500_000_000 });
  assert.deepEqual(await st("home/u/notes"), { ...(await st("home/u/notes")), mode: 0o600, uid: 1234, gid: 5678 });
  assert.equal((await st("tmp")).mode, 0o1777, "sticky bit kept");
  assert.deepEqual(await st("srv"), { ...(await st("srv")), mode: 0o2775, gid: 50 });
  assert.equal((await st("dev/null")).mode, 0o666);
  assert.equal((await lstat(join(dir, "dev/null"))).rdev, 1 * 256 + 3);
  assert.deepEqual(await st("dev/loop9"), { ...(await st("dev/loop9")), mode: 0o660, gid: 6 });
  assert.equal((await st("run/fifo")).mode, 0o620);
  assert.equal((await st("ro")).mode, 0o555);
  assert.equal(await readFile(join(dir, "ro/inside"), "utf8"), "written before the directory became read-only");
  assert.equal((await st("bin")).mode, 0o755);
}));

test("applyLayer: PAX SCHILY.xattr records become xattrs, binary values intact; overlay ones are skipped", { skip: NEEDS_ROOT }, () => withDirs(1, async (dir) => {
  const binary = Buffer.from([0, 1, 2, 0xff, 0x0a, 0x3d]);
  const tar = Buffer.concat([
    await tarOf([
      { name: "d/", type: "directory", pax: { "SCHILY.xattr.user.dir": "on a directory" } },
      { name: "d/f", content: "x", pax: { "SCHILY.xattr.user.comment": "héllo wörld", "SCHILY.xattr.trusted.overlay.redirect": "/etc" } },
    ]).then((t) => t.subarray(0, t.length - 1024)),
    rawPax([["SCHILY.xattr.user.bin", binary], ["SCHILY.xattr.security.test", "sec"]]),
    rawEntry({ name: "bin" }, Buffer.from("data")),
    rawPax([["LIBARCHIVE.xattr.user.lib%20name", Buffer.from("bGliYXJjaGl2ZQ==")]]),
    rawEntry({ name: "lib" }, Buffer.from("data")),
    END,
  ]);
  const skipped: string[] = [];
  await applyLayer(dir, chunked(tar), { onSkip: (entry, reason) => skipped.push(`${entry}: ${reason}`) });
  assert.deepEqual(await getXattr(join(dir, "d"), "user.dir"), Buffer.from("on a directory"));
  assert.deepEqual(await getXattr(join(dir, "d/f"), "user.comment"), Buffer.from("héllo wörld"));
  assert.equal(await getXattr(join(dir, "d/f"), "trusted.overlay.redirect"), undefined);
  assert.deepEqual(skipped, ["d/f: xattr trusted.overlay.redirect skipped: reserved for overlayfs"]);
  assert.deepEqual(await getXattr(join(dir, "bin"), "user.bin"), binary);
  assert.deepEqual(await getXattr(join(dir, "bin"), "security.test"), Buffer.from("sec"));
  assert.deepEqual(await getXattr(join(dir, "lib"), "user.lib name"), Buffer.from("libarchive"));
}));

test("applyLayer: gzip, zstd and plain layers give the same tree and the diffID of the tar", () => withDirs(3, async (plain, gz, zst) => {
  const entries: TestEntry[] = [{ name: "a/", type: "directory" }];
  for (let i = 0; i < 50; i++) entries.push({ name: `a/file-${i}`, content: `content ${i} `.repeat(i * 40) });
  entries.push({ name: "a/link", type: "symlink", linkname: "file-1" });
  const tar = await tarOf(entries);
  const zstd = await run("zstd", ["-q", "-c", "-3"], tar);
  for (const [dir, blob] of [[plain, tar], [gz, gzipSync(tar)], [zst, zstd]] as const) {
    const applied = await applyLayer(dir, decompress(chunked(blob, 1000)));
    assert.deepEqual(applied, { diffID: digestOf(tar), size: tar.length });
  }
  const want = await fingerprint(plain);
  want.delete(""); // the root has no entry in this layer: its times are the extraction's
  for (const dir of [gz, zst]) {
    const got = await fingerprint(dir);
    got.delete("");
    assert.deepEqual(got, want);
  }
  assert.equal(await readFile(join(plain, "a/file-3"), "utf8"), "content 3 ".repeat(120));
}));

test("applyLayer: an existing path is replaced, never written through; two directories merge", () => withDirs(2, async (dir, outside) => {
  await writeFile(join(outside, "target"), "outside");
  const tar = await tarOf([
    { name: "same", content: "first" },
    { name: "same", content: "second" },
    { name: "merge/", type: "directory", mode: 0o700 },
    { name: "merge/keep", content: "kept" },
    { name: "merge/", type: "directory", mode: 0o750, mtime: T(1_400_000_000) },
    { name: "was-file", content: "file" },
    { name: "was-file/", type: "directory" },
    { name: "was-dir/", type: "directory" },
    { name: "was-dir/child", content: "child" },
    { name: "was-dir", content: "now a file" },
    { name: "original", content: "original" },
    { name: "hard", type: "link", linkname: "original" },
    { name: "hard", content: "new content must not truncate the shared inode" },
    { name: "link", type: "symlink", linkname: join(outside, "target") },
    { name: "link", content: "replaces the link" },
    { name: "dirlink", type: "symlink", linkname: outside },
    { name: "dirlink/", type: "directory" },
  ]);
  await applyLayer(dir, chunked(tar));
  assert.equal(await readFile(join(dir, "same"), "utf8"), "second");
  assert.deepEqual(await readdir(join(dir, "merge")), ["keep"]);
  const merged = await lstat(join(dir, "merge"));
  assert.equal(merged.mode & 0o7777, 0o750);
  assert.equal(merged.mtimeMs, 1_400_000_000_000);
  assert.ok((await lstat(join(dir, "was-file"))).isDirectory());
  assert.equal(await readFile(join(dir, "was-dir"), "utf8"), "now a file");
  assert.equal(await readFile(join(dir, "original"), "utf8"), "original");
  assert.equal((await lstat(join(dir, "original"))).nlink, 1);
  assert.equal(await readFile(join(dir, "hard"), "utf8"), "new content must not truncate the shared inode");
  assert.ok((await lstat(join(dir, "link"))).isFile());
  assert.ok((await lstat(join(dir, "dirlink"))).isDirectory());
  assert.equal(await readFile(join(outside, "target"), "utf8"), "outside");
  assert.deepEqual(await readdir(outside), ["target"]);
}));

test("applyLayer: whiteouts become 0:0 character devices and opaque directories get trusted.overlay.opaque", { skip: NEEDS_ROOT }, () => withDirs(1, async (dir) => {
  const skipped: string[] = [];
  const tar = await tarOf([
    { name: "a/", type: "directory" },
    { name: "a/.wh.b", content: "" },
    { name: "d/", type: "directory" },
    { name: "d/.wh..wh..opq", content: "" },
    { name: "d/new", content: "new" },
    { name: "implicit/.wh.gone", content: "" },
    { name: ".wh..wh.plnk/", type: "directory" },
    { name: ".wh.top", content: "" },
  ]);
  await applyLayer(dir, chunked(tar), { onSkip: (e, r) => skipped.push(`${e}: ${r}`) });
  assert.deepEqual(await listTree(dir), ["d a", "c a/b 0:0", "d d", "f d/new", "d implicit", "c implicit/gone 0:0", "c top 0:0"]);
  const wh = await lstat(join(dir, "a/b"));
  assert.deepEqual([wh.uid, wh.gid, wh.rdev], [0, 0, 0]);
  assert.deepEqual(await getXattr(join(dir, "d"), "trusted.overlay.opaque"), Buffer.from("y"));
  assert.equal(await getXattr(join(dir, "a"), "trusted.overlay.opaque"), undefined);
  assert.deepEqual(skipped, [".wh..wh.plnk/: AUFS metadata skipped"]);
}));

test("applyLayer: two layers mounted as an overlay show whiteouts applied, and a layer's own entries survive its whiteouts", { skip: NEEDS_ROOT }, async () => {
  const base = await tempDir();
  const [lower, upper, work, up, merged] = ["lower", "upper", "work", "up", "merged"].map((n) => join(base, n)) as [string, string, string, string, string];
  try {
    for (const d of [lower, upper, work, up, merged]) await mkdir(d);
    await applyLayer(lower, chunked(await tarOf([
      { name: "a/", type: "directory" }, { name: "a/b", content: "b" }, { name: "a/c", content: "c" },
      { name: "d/", type: "directory" }, { name: "d/e", content: "e" }, { name: "d/sub/", type: "directory" }, { name: "d/sub/deep", content: "deep" },
      { name: "g/", type: "directory" }, { name: "g/old", content: "lower old" }, { name: "g/also", content: "also" },
      { name: "h/", type: "directory" }, { name: "h/theirs", content: "theirs" },
      { name: "k/", type: "directory" }, { name: "k/child", content: "child" },
      { name: "m/", type: "directory" }, { name: "m/lower", content: "lower" },
      { name: "n/", type: "directory" }, { name: "n/lower", content: "lower" },
    ])));
    await applyLayer(upper, chunked(await tarOf([
      { name: "a/", type: "directory" }, { name: "a/.wh.b", content: "" },
      { name: "d/", type: "directory" }, { name: "d/.wh..wh..opq", content: "" }, { name: "d/new", content: "new" },
      // the same layer writes g/old and whites it out: its own entry stays
      { name: "g/", type: "directory" }, { name: "g/old", content: "upper old" }, { name: "g/.wh.old", content: "" },
      // opaque after the layer's own entry of the directory: still only hides the lower one
      { name: "h/", type: "directory" }, { name: "h/mine", content: "mine" }, { name: "h/.wh..wh..opq", content: "" },
      // whiteout first, then a new entry of the same name (a file replacing a lower directory)
      { name: ".wh.k", content: "" }, { name: "k", content: "k is a file now" },
      // whiteout of a directory, then the layer's own directory of that name: lower children hidden
      { name: ".wh.m", content: "" }, { name: "m/", type: "directory" }, { name: "m/upper", content: "upper" },
      // the same without the directory's own entry: the whiteout becomes an implicit opaque directory
      { name: ".wh.n", content: "" }, { name: "n/upper", content: "upper" },
    ])));
    await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${upper}:${lower}`, merged]);
    try {
      assert.deepEqual(await listTree(merged), [
        "d a", "f a/c", "d d", "f d/new", "d g", "f g/also", "f g/old", "d h", "f h/mine", "f k", "d m", "f m/upper", "d n", "f n/upper",
      ]);
      assert.equal(await readFile(join(merged, "g/old"), "utf8"), "upper old");
      assert.equal(await readFile(join(merged, "k"), "utf8"), "k is a file now");
    } finally {
      await unmount(merged);
    }
    // and as a container's rootfs: a writable upper over both layers
    await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${upper}:${lower},upperdir=${up},workdir=${work}`, merged]);
    try {
      await writeFile(join(merged, "a/c"), "changed");
      assert.deepEqual(await readdir(join(merged, "a")), ["c"]);
      assert.equal(await readFile(join(lower, "a/c"), "utf8"), "c", "lower layers are never written");
    } finally {
      await unmount(merged);
    }
  } finally {
    await removeAll(base);
  }
});

test("applyLayer: the target must be an existing, empty directory", () => withDirs(1, async (dir) => {
  const tar = await tarOf([{ name: "f", content: "x" }]);
  await assert.rejects(applyLayer(join(dir, "missing"), chunked(tar)), isFailedPrecondition);
  await writeFile(join(dir, "already"), "x");
  await assert.rejects(applyLayer(dir, chunked(tar)), (err: unknown) => isFailedPrecondition(err) && /not empty/.test(String(err)));
  await symlink("already", join(dir, "link"));
  await assert.rejects(applyLayer(join(dir, "link"), chunked(tar)), isFailedPrecondition);
}));

test("applyLayer: the entry cap and the byte cap fail the layer with ResourceExhausted", () => withDirs(2, async (a, b) => {
  const tar = await tarOf(Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: "x".repeat(1000) })));
  await assert.rejects(applyLayer(a, chunked(tar), { maxEntries: 10 }), (err: unknown) => isResourceExhausted(err) && /"f10".*more than 10 entries/.test(String(err)));
  await assert.rejects(applyLayer(b, chunked(tar), { maxBytes: 5000 }), (err: unknown) => isResourceExhausted(err) && /limit of 5000/.test(String(err)));
}));

test("applyLayer: archives written by GNU tar (gnu and pax formats, long names, xattrs) extract to the same tree", { skip: NEEDS_ROOT }, async () => {
  const base = await tempDir();
  try {
    const src = join(base, "src");
    const long = "x".repeat(120);
    await mkdir(join(src, long, "y".repeat(150), "z".repeat(200)), { recursive: true });
    await writeFile(join(src, long, "y".repeat(150), "z".repeat(200), "w".repeat(240)), "deep");
    await mkdir(join(src, "ünïcødé ✓"));
    await writeFile(join(src, "ünïcødé ✓", "fïle"), "unicode");
    await writeFile(join(src, "plain"), "plain");
    await link(join(src, "plain"), join(src, "l".repeat(130)));
    await symlink("t".repeat(200), join(src, "longlink"));
    await run("mkfifo", [join(src, "fifo")]);
    await run("setfattr", ["-n", "user.k", "-v", "v", join(src, "plain")]);
    await run("chown", ["-h", "1001:1002", join(src, "longlink")]);
    await run("chmod", ["4711", join(src, "plain")]);
    await run("find", [src, "-exec", "touch", "-h", "-d", "@1700000000", "{}", "+"]);
    for (const format of ["gnu", "pax"]) {
      const tarPath = join(base, `${format}.tar`);
      const xattrs = format === "pax" ? ["--xattrs", "--xattrs-include=*"] : [];
      await run("tar", [...xattrs, `--format=${format}`, "-cf", tarPath, "-C", src, "."]);
      const out = join(base, `out-${format}`);
      await mkdir(out);
      const tar = await readFile(tarPath);
      const applied = await applyLayer(out, chunked(tar, 10_000));
      assert.equal(applied.diffID, digestOf(tar));
      assert.deepEqual(await fingerprint(out), await fingerprint(src), `${format} tree`);
      if (format === "pax") assert.deepEqual(await getXattr(join(out, "plain"), "user.k"), Buffer.from("v"));
    }
  } finally {
    await removeAll(base);
  }
});

test("applyLayer: a layer's whiteouts share one 0:0 inode, and one replaced by a later entry leaves the others whole", { skip: NEEDS_ROOT }, () => withDirs(1, async (dir) => {
  const tar = await tarOf([
    { name: ".wh.a", content: "" },
    { name: ".wh.b", content: "" },
    { name: "a", content: "a is a file now" }, // replaces the whiteout the others were linked to
    { name: ".wh.c", content: "" },
    { name: "d/", type: "directory" },
    { name: "d/.wh.e", content: "" },
    { name: ".wh.d", content: "" },
  ]);
  await applyLayer(dir, chunked(tar));
  assert.deepEqual(await listTree(dir), ["f a", "c b 0:0", "c c 0:0", "d d", "c d/e 0:0"]);
  const [b, c, e] = await Promise.all(["b", "c", "d/e"].map((p) => lstat(join(dir, p))));
  for (const wh of [b, c, e]) assert.deepEqual([wh?.mode, wh?.uid, wh?.gid, wh?.rdev], [0o20000, 0, 0, 0]);
  assert.equal(b?.nlink, 1, "the first whiteout's other name was replaced");
  assert.equal(c?.ino, e?.ino);
  assert.equal(c?.nlink, 2);
  assert.deepEqual(await getXattr(join(dir, "d"), "trusted.overlay.opaque"), Buffer.from("y"));
}));

test("applyLayer: xattrs with odd names, paths and empty values are set exactly; a replaced path's xattrs stay on an inode a hard link keeps", { skip: NEEDS_ROOT }, () => withDirs(1, async (dir) => {
  const odd = "odd \\ name=é\n\"x\"";
  const tar = await tarOf([
    { name: `${odd}/`, type: "directory", pax: { "SCHILY.xattr.user.dir": "d" } },
    { name: `${odd}/${odd}`, content: "x", pax: { "SCHILY.xattr.user.k\\ é \"q\"": "v\nw", "SCHILY.xattr.user.empty": "" } },
    { name: "f", content: "first", pax: { "SCHILY.xattr.user.keep": "1" } },
    { name: "h", type: "link", linkname: "f" },
    { name: "f", content: "second" },
  ]);
  await applyLayer(dir, chunked(tar));
  assert.deepEqual(await getXattr(join(dir, odd), "user.dir"), Buffer.from("d"));
  assert.deepEqual(await getXattr(join(dir, odd, odd), "user.k\\ é \"q\""), Buffer.from("v\nw"));
  assert.deepEqual(await getXattr(join(dir, odd, odd), "user.empty"), Buffer.alloc(0));
  assert.deepEqual(await getXattr(join(dir, "h"), "user.keep"), Buffer.from("1"));
  assert.equal(await readFile(join(dir, "h"), "utf8"), "first");
  assert.equal(await getXattr(join(dir, "f"), "user.keep"), undefined);
}));

test("applyLayer: pending xattrs are set before their directory is replaced by a symlink, never through it", { skip: NEEDS_ROOT }, () => withDirs(2, async (dir, outside) => {
  await writeFile(join(outside, "f"), "outside");
  const tar = await tarOf([
    { name: "d/", type: "directory", pax: { "SCHILY.xattr.user.d": "1" } },
    { name: "d/f", content: "inside", pax: { "SCHILY.xattr.user.f": "1" } },
    { name: "d/.wh..wh..opq", content: "" },
    { name: "d", type: "symlink", linkname: outside },
  ]);
  await applyLayer(dir, chunked(tar));
  assert.ok((await lstat(join(dir, "d"))).isSymbolicLink());
  for (const [path, name] of [[outside, "user.d"], [outside, "trusted.overlay.opaque"], [join(outside, "f"), "user.f"]] as const) {
    assert.equal(await getXattr(path, name), undefined, `${path} ${name}`);
  }
}));

test("applyLayer: an xattr the filesystem refuses fails the layer, naming the entry", { skip: NEEDS_ROOT }, () => withDirs(1, async (dir) => {
  const tar = await tarOf([
    { name: "ok", content: "x", pax: { "SCHILY.xattr.user.ok": "1" } },
    { name: "s", type: "symlink", linkname: "ok", pax: { "SCHILY.xattr.user.x": "1" } }, // user.* xattrs cannot be set on symlinks
  ]);
  await assert.rejects(applyLayer(dir, chunked(tar)), (err: unknown) => isInvalidArgument(err) && /layer entry "s": cannot set xattr user\.x/.test(String(err)));
}));
