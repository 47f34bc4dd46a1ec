/**
 * The behaviour every Snapshotter must have (STYLE.md R11; containerd's SnapshotterSuite,
 * `core/snapshots/testsuite`, the cases that apply to our interface). An implementation runs it with
 *
 *   snapshotterSuite("OverlaySnapshotter", async ({ clock }) => ({ snapshotter: new OverlaySnapshotter(root, { clock }), cleanup }));
 *
 * Tests that write through mounts need root to mount; without it they skip and say why.
 * Left out, as they do not apply: containerd's Update (our interface has no update), Walk
 * filters (our walk takes none) and CloseTwice (no close).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, chown, link, lstat, mkdir, readFile, readdir, readlink, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FakeClock } from "../../../src/clock/index.js";
import { isAlreadyExists, isFailedPrecondition, isInvalidArgument, isNotFound } from "../../../src/errdefs/index.js";
import type { Mount, Snapshotter } from "../../../src/store/snapshots/snapshotter.js";
import { isRoot, mountAll, removeAll, run, tempDir, unmount } from "../helpers.js";

export interface SnapshotterFixture {
  snapshotter: Snapshotter;
  cleanup(): Promise<void>;
}

export interface SnapshotterSuiteContext {
  /** The clock the snapshotter must read its times from. */
  clock: FakeClock;
}

export const SUITE_START = Date.UTC(2025, 0, 1);

const NEEDS_ROOT = isRoot ? false : "mounting snapshots needs root";

type Create = (ctx: SnapshotterSuiteContext) => Promise<SnapshotterFixture>;

async function withFixture(create: Create, fn: (s: Snapshotter, clock: FakeClock) => Promise<void>): Promise<void> {
  const clock = new FakeClock(SUITE_START);
  const f = await create({ clock });
  try {
    await fn(f.snapshotter, clock);
  } finally {
    await f.cleanup();
  }
}

/** Mounts `mounts` on a temporary directory, runs `fn` on it, unmounts whatever happens. */
async function withMounted(mounts: readonly Mount[], fn: (dir: string) => Promise<void>): Promise<void> {
  const base = await tempDir("podyard-mnt-");
  const target = join(base, "m");
  try {
    await mountAll(mounts, target);
    await fn(target);
  } finally {
    await unmount(target);
    await removeAll(base);
  }
}

/** Changes made to a tree (containerd's fstest appliers). */
type Applier = (dir: string) => Promise<void>;

const apply = (...steps: Applier[]): Applier => async (dir) => {
  for (const step of steps) await step(dir);
};
const createFile = (p: string, content: string, mode: number): Applier => async (dir) => {
  await writeFile(join(dir, p), content);
  await chmod(join(dir, p), mode);
};
const createDir = (p: string, mode: number): Applier => async (dir) => {
  await mkdir(join(dir, p));
  await chmod(join(dir, p), mode);
};
const removeAllOf = (p: string): Applier => (dir) => rm(join(dir, p), { recursive: true, force: true });
const chownTo = (p: string, uid: number, gid: number): Applier => (dir) => chown(join(dir, p), uid, gid);
const renameTo = (from: string, to: string): Applier => (dir) => rename(join(dir, from), join(dir, to));
const linkTo = (existing: string, p: string): Applier => (dir) => link(join(dir, existing), join(dir, p));

/** Every entry under `dir` (not the root): type, permission bits, owner, size, content or link target. */
async function treeState(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(rel === "" ? dir : join(dir, rel))).sort()) {
      const r = rel === "" ? name : `${rel}/${name}`;
      const st = await lstat(join(dir, r));
      const type = st.isDirectory() ? "d" : st.isSymbolicLink() ? "l" : st.isFile() ? "f" : "?";
      let detail = "";
      if (st.isFile()) detail = createHash("sha256").update(await readFile(join(dir, r))).digest("hex").slice(0, 12);
      else if (st.isSymbolicLink()) detail = await readlink(join(dir, r));
      out.push(`${type} ${r} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.isDirectory() ? "" : st.size} ${detail}`.trimEnd());
      if (st.isDirectory()) await visit(r);
    }
  };
  await visit("");
  return out;
}

/** A mount nothing can be written through: `ro`, or an overlay without an upper directory. */
function readOnly(m: Mount): boolean {
  return m.options.includes("ro") || (m.type === "overlay" && !m.options.some((o) => o.startsWith("upperdir=")));
}

let serial = 0;

/** Prepares a snapshot on `parent`, applies `a` through its mounts, commits it; returns its name. */
async function createSnapshot(s: Snapshotter, parent: string | undefined, a: Applier): Promise<string> {
  const name = `layer-${++serial}`;
  await withMounted(await s.prepare(`${name}-prepare`, parent), a);
  await s.commit(name, `${name}-prepare`);
  return name;
}

/**
 * containerd's checkSnapshots: a chain of snapshots, one per applier, each checked through a
 * view against the same changes made to one plain directory.
 */
async function checkSnapshots(s: Snapshotter, ...appliers: Applier[]): Promise<void> {
  const flat = await tempDir("podyard-flat-");
  try {
    let parent: string | undefined;
    for (const [i, a] of appliers.entries()) {
      const name = await createSnapshot(s, parent, a);
      await a(flat);
      await withMounted(await s.view(`${name}-view`, name), async (dir) => {
        assert.deepEqual(await treeState(dir), await treeState(flat), `snapshot ${i + 1} of the chain`);
      });
      await s.remove(`${name}-view`);
      parent = name;
    }
  } finally {
    await removeAll(flat);
  }
}

/** containerd's baseTestSnapshots: c1 ← c2 ← a1, a2 alone, v1 on c2, v2 alone; the clock steps 1 s before each. */
async function baseSnapshots(s: Snapshotter, clock: FakeClock): Promise<void> {
  const labels = { "containerd.io/gc.root": "suite" };
  clock.step(1_000);
  await s.prepare("c1-a", undefined, { labels });
  clock.step(1_000);
  await s.commit("c1", "c1-a");
  clock.step(1_000);
  await s.prepare("c2-a", "c1", { labels });
  clock.step(1_000);
  await s.commit("c2", "c2-a", { labels: { layer: "2" } });
  clock.step(1_000);
  await s.prepare("a1", "c2", { labels });
  clock.step(1_000);
  await s.prepare("a2", undefined);
  clock.step(1_000);
  await s.view("v1", "c2", { labels });
  clock.step(1_000);
  await s.view("v2", undefined);
}

export function snapshotterSuite(name: string, create: Create): void {
  test(`${name}: prepare, commit and stat walk the lifecycle`, () => withFixture(create, async (s) => {
    const mounts = await s.prepare("k1", undefined, { labels: { a: "1" } });
    assert.ok(mounts.length > 0);
    assert.deepEqual(await s.mounts("k1"), mounts);
    const active = await s.stat("k1");
    assert.equal(active.kind, "active");
    assert.equal(active.parent, undefined);
    assert.deepEqual(active.labels, { a: "1" });

    await s.commit("base", "k1", { labels: { b: "2" } });
    await assert.rejects(s.stat("k1"), isNotFound);
    const committed = await s.stat("base");
    assert.equal(committed.kind, "committed");
    assert.deepEqual(committed.labels, { a: "1", b: "2" });
    await assert.rejects(s.mounts("base"), isFailedPrecondition);

    await s.prepare("k2", "base");
    assert.equal((await s.stat("k2")).parent, "base");
    assert.deepEqual((await s.walk()).map((i) => [i.name, i.kind, i.parent]), [["base", "committed", undefined], ["k2", "active", "base"]]);
  }));

  test(`${name}: names are unique and parents must be committed`, () => withFixture(create, async (s) => {
    await s.prepare("k", undefined);
    await assert.rejects(s.prepare("k", undefined), isAlreadyExists);
    await assert.rejects(s.view("k", undefined), isAlreadyExists);
    await assert.rejects(s.prepare("child", "k"), isFailedPrecondition, "an active snapshot cannot be a parent");
    await assert.rejects(s.prepare("child", "missing"), isNotFound);
    await s.commit("c", "k");
    await s.prepare("k2", undefined);
    await assert.rejects(s.commit("c", "k2"), isAlreadyExists);
    await assert.rejects(s.commit("x", "missing"), isNotFound);
    await s.view("v", "c");
    await assert.rejects(s.commit("x", "v"), isFailedPrecondition, "a view cannot be committed");
    await assert.rejects(s.commit("y", "c"), isFailedPrecondition, "a committed snapshot cannot be committed again");
  }));

  // and containerd's RemoveIntermediateSnapshot
  test(`${name}: remove refuses a snapshot that is still a parent`, () => withFixture(create, async (s) => {
    await s.prepare("k", undefined);
    await s.commit("base", "k");
    await s.prepare("k2", "base");
    await s.commit("mid", "k2");
    await s.view("v", "mid");
    await s.prepare("toplayer", "mid");
    await assert.rejects(s.remove("base"), (err: unknown) => isFailedPrecondition(err) && /"mid"/.test((err as Error).message));
    await assert.rejects(s.remove("mid"), isFailedPrecondition);
    await s.remove("v");
    await assert.rejects(s.remove("mid"), (err: unknown) => isFailedPrecondition(err) && /"toplayer"/.test((err as Error).message), "an active child holds it too");
    await s.remove("toplayer");
    await s.remove("mid");
    await s.remove("base");
    await assert.rejects(s.remove("base"), isNotFound);
    assert.deepEqual(await s.walk(), []);
  }));

  test(`${name}: what is written into an active snapshot is there after commit, under a view`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await withMounted(await s.prepare("k1", undefined), async (dir) => {
      await writeFile(join(dir, "a"), "layer 1");
      await writeFile(join(dir, "shadowed"), "layer 1");
    });
    await s.commit("l1", "k1");
    await withMounted(await s.prepare("k2", "l1"), async (dir) => {
      assert.equal(await readFile(join(dir, "a"), "utf8"), "layer 1");
      await writeFile(join(dir, "b"), "layer 2");
      await writeFile(join(dir, "shadowed"), "layer 2");
    });
    await s.commit("l2", "k2");
    const usage = await s.usage("l2");
    assert.ok(usage.inodes >= 3, `inodes ${usage.inodes}`);
    assert.ok(usage.size > 0);
    await withMounted(await s.view("v", "l2"), async (dir) => {
      assert.deepEqual((await readdir(dir)).sort(), ["a", "b", "shadowed"]);
      assert.equal(await readFile(join(dir, "shadowed"), "utf8"), "layer 2");
      await assert.rejects(writeFile(join(dir, "c"), "x"), /EROFS|read-only/);
    });
    await withMounted(await s.view("v1", "l1"), async (dir) => {
      assert.deepEqual((await readdir(dir)).sort(), ["a", "shadowed"]);
      await assert.rejects(writeFile(join(dir, "c"), "x"), /EROFS|read-only/);
    });
  }));

  // containerd: StatActive, StatComitted, TransitivityTest
  test(`${name}: stat names an active snapshot, a committed one and the chain of parents`, () => withFixture(create, async (s, clock) => {
    await s.prepare("preparing", undefined, { labels: { "containerd.io/gc.root": "x" } });
    assert.deepEqual(await s.stat("preparing"), { name: "preparing", kind: "active", createdAt: SUITE_START, labels: { "containerd.io/gc.root": "x" } });
    clock.step(5_000);
    await s.commit("snapA", "preparing");
    assert.deepEqual(await s.stat("snapA"), { name: "snapA", kind: "committed", createdAt: SUITE_START + 5_000, labels: { "containerd.io/gc.root": "x" } });
    await s.prepare("next", "snapA");
    await s.commit("snapB", "next");
    const b = await s.stat("snapB");
    assert.equal(b.parent, "snapA");
    assert.equal((await s.stat(b.parent ?? "")).parent, undefined, "snapA is a base: snapB's grandparent is nothing");
  }));

  // containerd: PreareViewFailingtest
  test(`${name}: a key taken by prepare or view cannot be prepared or viewed again`, () => withFixture(create, async (s) => {
    await s.prepare("preparing", undefined);
    await s.commit("snapA", "preparing");
    await s.prepare("newlayer", "snapA");
    await assert.rejects(s.view("newlayer", "snapA"), isAlreadyExists);
    await s.prepare("prepLayer", "snapA");
    await assert.rejects(s.prepare("prepLayer", "snapA"), isAlreadyExists);
    await s.view("viewLayer", "snapA");
    await assert.rejects(s.view("viewLayer", "snapA"), isAlreadyExists);
    await assert.rejects(s.prepare("snapA", undefined), isAlreadyExists, "a committed snapshot's name is taken too");
    await assert.rejects(s.view("snapA", "snapA"), isAlreadyExists);
    assert.equal((await s.stat("viewLayer")).kind, "view", "the failed calls changed nothing");
    assert.equal((await s.stat("newlayer")).kind, "active");
  }));

  // containerd: Remove
  test(`${name}: keys and names are free again once removed`, () => withFixture(create, async (s) => {
    await s.prepare("committed-a", undefined);
    await s.commit("committed-1", "committed-a");
    await s.prepare("reuse-1", "committed-1");
    await s.remove("reuse-1");
    await s.view("reuse-1", "committed-1");
    await s.remove("reuse-1");
    await s.prepare("reuse-1", undefined);
    await s.remove("committed-1");
    await s.commit("committed-1", "reuse-1");
    assert.deepEqual((await s.walk()).map((i) => [i.name, i.kind, i.parent]), [["committed-1", "committed", undefined]]);
  }));

  // containerd: Walk, StatInWalk and the kinds and parents of Update
  test(`${name}: walk lists every snapshot, oldest first, as stat shows it`, () => withFixture(create, async (s, clock) => {
    await baseSnapshots(s, clock);
    const walked = await s.walk();
    assert.deepEqual(walked.map((i) => [i.name, i.kind, i.parent, i.createdAt - SUITE_START]), [
      ["c1", "committed", undefined, 2_000],
      ["c2", "committed", "c1", 4_000],
      ["a1", "active", "c2", 5_000],
      ["a2", "active", undefined, 6_000],
      ["v1", "view", "c2", 7_000],
      ["v2", "view", undefined, 8_000],
    ]);
    for (const info of walked) assert.deepEqual(await s.stat(info.name), info, `stat of ${info.name} during a walk`);
    assert.deepEqual((await s.stat("c2")).labels, { "containerd.io/gc.root": "suite", layer: "2" });
    assert.deepEqual((await s.stat("v2")).labels, {});

    const first = walked[0];
    if (first !== undefined) first.labels.changed = "by the caller";
    assert.deepEqual((await s.stat("c1")).labels, { "containerd.io/gc.root": "suite" }, "walk hands out copies");
  }));

  test(`${name}: each misuse gets its error`, () => withFixture(create, async (s) => {
    await baseSnapshots(s, new FakeClock());
    // unknown keys: NotFound
    await assert.rejects(s.stat("nope"), isNotFound);
    await assert.rejects(s.mounts("nope"), isNotFound);
    await assert.rejects(s.usage("nope"), isNotFound);
    await assert.rejects(s.remove("nope"), isNotFound);
    await assert.rejects(s.commit("x", "nope"), isNotFound);
    await assert.rejects(s.prepare("x", "nope"), isNotFound);
    await assert.rejects(s.view("x", "nope"), isNotFound);
    // only committed snapshots are parents: FailedPrecondition
    await assert.rejects(s.prepare("x", "a1"), isFailedPrecondition);
    await assert.rejects(s.view("x", "v1"), isFailedPrecondition);
    // only active snapshots are committed, only they and views have mounts
    await assert.rejects(s.commit("x", "v1"), isFailedPrecondition);
    await assert.rejects(s.commit("x", "c2"), isFailedPrecondition);
    await assert.rejects(s.mounts("c1"), isFailedPrecondition);
    // names are unique: AlreadyExists, and the active snapshot stays as it was
    await assert.rejects(s.commit("c1", "a2"), isAlreadyExists);
    await assert.rejects(s.commit("v1", "a2"), isAlreadyExists);
    assert.equal((await s.stat("a2")).kind, "active");
    // a parent is not removed: FailedPrecondition
    await assert.rejects(s.remove("c1"), isFailedPrecondition);
    await assert.rejects(s.remove("c2"), isFailedPrecondition);
    // a rebase at commit needs a committed parent and a snapshot prepared on none
    await assert.rejects(s.commit("x", "a2", { parent: "nope" }), isNotFound);
    await assert.rejects(s.commit("x", "a2", { parent: "a1" }), isFailedPrecondition);
    await assert.rejects(s.commit("x", "a1", { parent: "c1" }), isFailedPrecondition);
    // keys must be non-empty strings without NUL: InvalidArgument, as a rejected promise
    await assert.rejects(s.prepare(""), isInvalidArgument);
    await assert.rejects(s.view("a\0b"), isInvalidArgument);
    await assert.rejects(s.prepare("x", ""), isInvalidArgument);
    await assert.rejects(s.commit("", "a2"), isInvalidArgument);
    await assert.rejects(s.commit("x", "a2", { parent: "" }), isInvalidArgument);
    // nothing above changed anything
    assert.deepEqual((await s.walk()).map((i) => i.name), ["c1", "c2", "a1", "a2", "v1", "v2"]);
    await s.commit("c3", "a2");
    assert.equal((await s.stat("c3")).parent, undefined);
  }));

  test(`${name}: mounts: one for an active snapshot, a read-only one for a view, the same each time`, () => withFixture(create, async (s) => {
    await baseSnapshots(s, new FakeClock());
    for (const key of ["a1", "a2", "v1", "v2"]) {
      const mounts = await s.mounts(key);
      assert.ok(mounts.length > 0, key);
      assert.deepEqual(await s.mounts(key), mounts, `${key}: mounts() gives the same mounts again`);
      assert.equal(mounts.every(readOnly), key.startsWith("v"), `${key}: ${JSON.stringify(mounts)}`);
    }
  }));

  test(`${name}: usage counts the snapshot's own tree`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await s.prepare("empty", undefined);
    assert.equal((await s.usage("empty")).inodes, 1, "an empty snapshot is its root directory");
    await withMounted(await s.prepare("k", undefined), async (dir) => {
      await writeFile(join(dir, "data"), Buffer.alloc(64 * 1024, 1));
      await mkdir(join(dir, "d"));
      await link(join(dir, "data"), join(dir, "d", "same"));
    });
    const active = await s.usage("k");
    assert.equal(active.inodes, 3, "root, d, and data once although linked twice");
    assert.ok(active.size >= 64 * 1024, `size ${active.size}`);
    await s.commit("c", "k");
    assert.deepEqual(await s.usage("c"), active, "committing changes nothing on disk");
  }));

  // containerd: Basic
  test(`${name}: a chain of two layers shows changes, additions and removals`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    const initial = apply(createFile("foo", "foo\n", 0o777), createDir("a", 0o755), createDir("a/b", 0o755), createDir("a/b/c", 0o755));
    const diff = apply(createFile("bar", "bar\n", 0o777), createFile("foo", "bar\n", 0o777), removeAllOf("a/b"));
    await checkSnapshots(s, initial, diff);
  }));

  // containerd: DeletedFilesInChildSnapshot
  test(`${name}: files deleted in a child stay deleted in its children`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await checkSnapshots(s, apply(createFile("foo", "foo\n", 0o777), createFile("foobar", "foobar\n", 0o777)), removeAllOf("foobar"), apply());
  }));

  // containerd: LayerFileupdate
  test(`${name}: a file updated in an upper layer, content and mode`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await checkSnapshots(
      s,
      apply(createDir("etc", 0o700), createFile("etc/hosts", "mydomain 10.0.0.1", 0o644), createFile("etc/profile", "PATH=/usr/bin", 0o644)),
      apply(createFile("etc/hosts", "mydomain 10.0.0.2", 0o644), createFile("etc/profile", "PATH=/usr/bin", 0o666), createDir("root", 0o700), createFile("root/.bashrc", "PATH=/usr/sbin:/usr/bin", 0o644)),
    );
  }));

  // containerd: RemoveDirectoryInLowerLayer
  test(`${name}: a directory removed and made again hides what the lower one held`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await checkSnapshots(
      s,
      apply(createDir("lib", 0o700), createFile("lib/hidden", "", 0o644)),
      apply(removeAllOf("lib"), createDir("lib", 0o700), createFile("lib/not-hidden", "", 0o644)),
      createFile("lib/newfile", "", 0o644),
    );
  }));

  // containerd: Chown
  test(`${name}: ownership changed in an upper layer`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await checkSnapshots(
      s,
      apply(createDir("opt", 0o700), createDir("opt/a", 0o700), createDir("opt/a/b", 0o700), createFile("opt/a/b/file.txt", "hello", 0o644)),
      apply(chownTo("opt", 1, 1), chownTo("opt/a", 1, 1), chownTo("opt/a/b", 1, 1), chownTo("opt/a/b/file.txt", 1, 1)),
    );
  }));

  // containerd: DirectoryPermissionOnCommit
  test(`${name}: directory owners survive commits, removals and re-creation`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await checkSnapshots(
      s,
      apply(
        createDir("dir1", 0o700), createDir("dir2", 0o700), createDir("dir3", 0o700), createDir("dir4", 0o700), createFile("dir4/f1", "...", 0o644),
        createDir("dir5", 0o700), createFile("dir5/f1", "...", 0o644),
        chownTo("dir1", 1, 1), chownTo("dir2", 1, 1), chownTo("dir3", 1, 1), chownTo("dir5", 1, 1), chownTo("dir5/f1", 1, 1),
      ),
      apply(chownTo("dir2", 0, 0), removeAllOf("dir3"), chownTo("dir4", 1, 1), chownTo("dir4/f1", 1, 1)),
      apply(createDir("dir3", 0o700), chownTo("dir3", 1, 1), removeAllOf("dir5"), createDir("dir5", 0o700), chownTo("dir5", 1, 1)),
    );
  }));

  // containerd: MoveFileFromLowerLayer
  test(`${name}: files moved and hard-linked out of a lower layer`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await checkSnapshots(
      s,
      apply(createDir("dir1", 0o700), createFile("dir1/f1", "Hello", 0o644), createDir("dir2", 0o700), createFile("dir2/f2", "...", 0o644)),
      apply(createDir("dir3", 0o700), createFile("dir3/f1", "Hello", 0o644), removeAllOf("dir1"), linkTo("dir2/f2", "dir3/f2"), removeAllOf("dir2/f2")),
    );
  }));

  // containerd: Rename (files only: overlayfs without redirect_dir cannot rename a lower directory, as containerd's suite notes)
  test(`${name}: files renamed over and away in an upper layer`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await checkSnapshots(
      s,
      apply(createDir("dir1", 0o700), createDir("somefiles", 0o700), createFile("somefiles/f1", "was here first!", 0o644), createFile("somefiles/f2", "nothing interesting", 0o644)),
      apply(createFile("somefiles/f1-overwrite", "new content 1", 0o644), renameTo("somefiles/f1-overwrite", "somefiles/f1"), renameTo("somefiles/f2", "somefiles/f3")),
    );
  }));

  // containerd: ViewReadonly, RootPermission
  test(`${name}: a view is read-only; a new snapshot's root is 0755`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    await withMounted(await s.prepare("preparing", undefined), async (dir) => {
      assert.equal((await stat(dir)).mode & 0o777, 0o755);
    });
    await s.commit("committed", "preparing");
    await withMounted(await s.view("view", "committed"), async (dir) => {
      await assert.rejects(writeFile(join(dir, "testfile"), "testcontent"), /EROFS|read-only/);
    });
    await withMounted(await s.view("empty-view"), async (dir) => {
      await assert.rejects(writeFile(join(dir, "testfile"), "testcontent"), /EROFS|read-only/);
    });
    await s.remove("view");
    await s.remove("committed");
  }));

  // not in containerd's suite: our commit with a parent (a rebase), as unpackLayers uses it
  test(`${name}: a layer prepared on no parent, committed on one, stacks with its whiteouts and opaque directories`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    const lower = apply(
      createFile("keep", "lower\n", 0o644), createFile("gone", "lower\n", 0o644), createFile("replaced", "lower\n", 0o644),
      createDir("opaque", 0o755), createFile("opaque/hidden", "lower\n", 0o644),
      createDir("merged", 0o755), createFile("merged/lower", "lower\n", 0o644),
      createDir("dir-gone", 0o755), createFile("dir-gone/f", "lower\n", 0o644),
    );
    const base = await createSnapshot(s, undefined, lower);
    // the layer on its own, as the layer applier leaves it: whiteouts are 0:0 devices, opaque directories carry the xattr
    await withMounted(await s.prepare("layer", undefined), async (dir) => {
      await run("mknod", [join(dir, "gone"), "c", "0", "0"]);
      await run("mknod", [join(dir, "dir-gone"), "c", "0", "0"]);
      await writeFile(join(dir, "replaced"), "upper\n");
      await mkdir(join(dir, "opaque"));
      await run("setfattr", ["-n", "trusted.overlay.opaque", "-v", "y", join(dir, "opaque")]);
      await writeFile(join(dir, "opaque", "new"), "upper\n");
      await mkdir(join(dir, "merged"));
      await writeFile(join(dir, "merged", "upper"), "upper\n");
    });
    await s.commit("rebased", "layer", { parent: base });
    assert.equal((await s.stat("rebased")).parent, base);
    const flat = await tempDir("podyard-flat-");
    try {
      await lower(flat);
      await apply(
        removeAllOf("gone"), removeAllOf("dir-gone"), createFile("replaced", "upper\n", 0o644),
        removeAllOf("opaque"), createDir("opaque", 0o755), createFile("opaque/new", "upper\n", 0o644),
        createFile("merged/upper", "upper\n", 0o644),
      )(flat);
      await withMounted(await s.view("rebased-view", "rebased"), async (dir) => {
        assert.deepEqual(await treeState(dir), await treeState(flat));
      });
      await withMounted(await s.prepare("on-top", "rebased"), async (dir) => {
        assert.deepEqual(await treeState(dir), await treeState(flat), "a child of the rebased snapshot sees the same tree");
      });
    } finally {
      await removeAll(flat);
    }
  }));

  // containerd: 128LayersMount
  test(`${name}: 128 layers stack, each seeing the one below, the view showing them all`, { skip: NEEDS_ROOT }, () => withFixture(create, async (s) => {
    const layers: Applier[] = [apply(
      createFile("bottom", "way at the bottom\n", 0o777),
      createFile("overwriteme", "FIRST!\n", 0o777),
      createDir("addhere", 0o755),
      createDir("onlyme", 0o755),
      createFile("onlyme/bottom", "bye!\n", 0o777),
    )];
    for (let i = 1; i <= 127; i++) {
      layers.push(apply(
        createFile("overwriteme", `${i} WAS HERE!\n`, 0o777),
        createFile(`addhere/file-${i}`, "same\n", 0o755),
        removeAllOf("onlyme"),
        createDir("onlyme", 0o755),
        createFile(`onlyme/file-${i}`, "only me!\n", 0o777),
      ));
    }
    const flat = await tempDir("podyard-flat-");
    try {
      let parent: string | undefined;
      for (const [i, layer] of layers.entries()) {
        await withMounted(await s.prepare(`prepare-layer-${i}`, parent), async (dir) => {
          assert.deepEqual(await treeState(dir), await treeState(flat), `layer ${i} before its changes`);
          await layer(flat);
          await layer(dir);
          assert.deepEqual(await treeState(dir), await treeState(flat), `layer ${i} after its changes`);
        });
        parent = `committed-${i}`;
        await s.commit(parent, `prepare-layer-${i}`);
      }
      await withMounted(await s.view("fullview", parent), async (dir) => {
        assert.deepEqual(await treeState(dir), await treeState(flat));
      });
    } finally {
      await removeAll(flat);
    }
  }));
}
