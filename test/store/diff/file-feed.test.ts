/**
 * GrowingFile and followFile against real files: a writer appends in steps and publishes
 * what is on disk, a reader follows. Every step is sequenced on the reader's own waits
 * (a feed that reports each `changed()` call), never on sleeps.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { linkSync, unlinkSync } from "node:fs";
import { link, mkdtemp, open, readdir, readlink, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as tick } from "node:timers/promises";
import { followFile, GrowingFile, type FileFeed } from "../../../src/store/diff/file-feed.js";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-file-feed-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A FileFeed that passes through to a GrowingFile and tells when a reader starts waiting on `changed()`. */
class WatchedFeed implements FileFeed {
  waits = 0;
  #waiting: (() => void)[] = [];

  constructor(readonly inner: GrowingFile) {}

  get path(): string {
    return this.inner.path;
  }

  get available(): number {
    return this.inner.available;
  }

  get complete(): boolean {
    return this.inner.complete;
  }

  changed(): Promise<void> {
    this.waits++;
    const p = this.inner.changed();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) w();
    return p;
  }

  /** Resolves when a reader next calls `changed()`: it has read all there is and waits. Call before the step that leads there. */
  nextWait(): Promise<void> {
    return new Promise((resolve) => this.#waiting.push(resolve));
  }
}

/** Drains a followFile generator in the background, keeping what came out. */
function consume(it: AsyncGenerator<Buffer>) {
  const chunks: Buffer[] = [];
  let settled = false;
  const done = (async () => {
    try {
      for await (const c of it) chunks.push(Buffer.from(c));
    } finally {
      settled = true;
    }
  })();
  done.catch(() => undefined); // a test that expects a failure awaits `done` itself
  return {
    chunks,
    done,
    bytes: () => Buffer.concat(chunks),
    get settled() {
      return settled;
    },
  };
}

/** Lets pending I/O callbacks and microtasks run, so a reader that was going to end or throw would have. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

for (const sync of [false, true]) test(`bytes appended in steps come out whole and in order, and each step is read before the next is written${sync ? " (sync reads)" : ""}`, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "ingest");
    const file = await open(path, "w");
    try {
      const feed = new WatchedFeed(new GrowingFile(path));
      const steps = [1, 0, 4095, 4096, 1, 200_000, 3, 65_536, 17];
      const data = Buffer.concat(steps.map((n) => randomBytes(n)));

      let waiting = feed.nextWait();
      const reader = consume(followFile(feed, { readBytes: 10_000, sync }));
      await waiting; // nothing on disk yet: the reader waits
      assert.equal(reader.settled, false);

      let written = 0;
      for (const n of steps) {
        await file.write(data, written, n, written);
        written += n;
        waiting = feed.nextWait();
        feed.inner.grow(written);
        if (n === 0) continue; // no change, no wake-up: the reader is still on the previous wait
        await waiting;
        assert.ok(reader.bytes().equals(data.subarray(0, written)), `after ${written} bytes the reader has them all`);
        assert.equal(reader.settled, false, "the reader does not end before finish");
      }
      feed.inner.finish(written);
      await reader.done;
      assert.ok(reader.bytes().equals(data));
    } finally {
      await file.close();
    }
  });
});

test("a reader that has caught up waits for finish instead of ending", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "blob");
    const data = randomBytes(5000);
    await writeFile(path, data);
    const feed = new WatchedFeed(new GrowingFile(path, data.length));
    const it = followFile(feed);

    const first = await it.next();
    assert.equal(first.done, false);
    assert.ok(first.value?.equals(data));

    const waiting = feed.nextWait();
    let settledWith: IteratorResult<Buffer> | undefined;
    const next = it.next().then((r) => (settledWith = r));
    await waiting;
    await settle();
    assert.equal(settledWith, undefined, "all bytes are read, but the file is not finished: the reader waits");

    feed.inner.finish(data.length);
    assert.deepEqual(await next, { done: true, value: undefined });
  });
});

test("finish with more bytes than were announced: the reader reads the rest, then ends", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "blob");
    const data = randomBytes(100_000);
    await writeFile(path, data);
    const feed = new WatchedFeed(new GrowingFile(path, 30_000));
    const waiting = feed.nextWait();
    const reader = consume(followFile(feed, 8192));
    await waiting;
    assert.ok(reader.bytes().equals(data.subarray(0, 30_000)));
    feed.inner.finish(data.length);
    await reader.done;
    assert.ok(reader.bytes().equals(data));
  });
});

test("fail() makes a waiting reader throw the writer's error", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "ingest");
    const data = randomBytes(3000);
    await writeFile(path, data);
    const feed = new WatchedFeed(new GrowingFile(path, data.length));
    const waiting = feed.nextWait();
    const reader = consume(followFile(feed));
    await waiting;
    assert.ok(reader.bytes().equals(data));

    const err = new Error("digest mismatch: the blob is not what was asked for");
    feed.inner.fail(err);
    await assert.rejects(reader.done, (e) => e === err);
  });
});

test("a reader that starts after fail() throws the error and never ends normally, whatever bytes it saw", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "ingest");
    await writeFile(path, randomBytes(2000));
    const growing = new GrowingFile(path, 2000);
    const err = new Error("connection lost");
    growing.fail(err);
    const reader = consume(followFile(growing));
    await assert.rejects(reader.done, (e) => e === err);
    assert.ok(reader.bytes().length <= 2000);

    // and changed() keeps rejecting
    await assert.rejects(growing.changed(), (e) => e === err);
  });
});

test("fail() while the reader waits for the file to appear makes it throw the error", async () => {
  await withTempDir(async (dir) => {
    const feed = new WatchedFeed(new GrowingFile(join(dir, "not-yet")));
    const waiting = feed.nextWait();
    const reader = consume(followFile(feed));
    await waiting;
    const err = new Error("the download never started");
    feed.inner.fail(err);
    await assert.rejects(reader.done, (e) => e === err);
    assert.equal(reader.chunks.length, 0);
  });
});

test("fail() after finish() is ignored: the reader ends normally", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "blob");
    const data = randomBytes(1000);
    await writeFile(path, data);
    const growing = new GrowingFile(path, 0);
    growing.finish(data.length);
    growing.fail(new Error("too late"));
    const reader = consume(followFile(growing));
    await reader.done;
    assert.ok(reader.bytes().equals(data));
  });
});

test("a file moved before the reader opened it (link to the new path, unlink the old, finish with the new path) is read whole", async () => {
  await withTempDir(async (dir) => {
    const ingest = join(dir, "ingest-1");
    const blob = join(dir, "blob");
    const data = randomBytes(300_000);
    const growing = new GrowingFile(ingest);
    await writeFile(ingest, data);
    growing.grow(data.length);
    await link(ingest, blob);
    await unlink(ingest);
    growing.finish(data.length, blob);
    assert.equal(growing.path, blob);

    const reader = consume(followFile(growing, 65_536));
    await reader.done;
    assert.ok(reader.bytes().equals(data));
  });
});

test("a file moved between the reader's look at the path and its open is found at the new path", async () => {
  await withTempDir(async (dir) => {
    const ingest = join(dir, "ingest-1");
    const blob = join(dir, "blob");
    const data = randomBytes(50_000);
    await writeFile(ingest, data);
    const growing = new GrowingFile(ingest, data.length);
    // The writer finishes and moves the file right after the reader reads `path` the first time.
    let looks = 0;
    const racing: FileFeed = {
      get path() {
        const p = growing.path;
        if (looks++ === 0) {
          linkSync(ingest, blob);
          unlinkSync(ingest);
          growing.finish(data.length, blob);
        }
        return p;
      },
      get available() {
        return growing.available;
      },
      get complete() {
        return growing.complete;
      },
      changed: () => growing.changed(),
    };
    const reader = consume(followFile(racing));
    await reader.done;
    assert.ok(looks >= 2, "the reader looked at the path again");
    assert.ok(reader.bytes().equals(data));
  });
});

test("a reader waiting for a file that is not there yet reads it at the path finish gives", async () => {
  await withTempDir(async (dir) => {
    const ingest = join(dir, "ingest-1");
    const blob = join(dir, "blob");
    const data = randomBytes(10_000);
    const feed = new WatchedFeed(new GrowingFile(ingest));
    const waiting = feed.nextWait();
    const reader = consume(followFile(feed));
    await waiting; // ENOENT on the ingest path, not complete: it waits
    assert.equal(reader.settled, false);

    await writeFile(blob, data);
    feed.inner.finish(data.length, blob);
    await reader.done;
    assert.ok(reader.bytes().equals(data));
  });
});

test("a file moved while the reader has it open is still read to the end", async () => {
  await withTempDir(async (dir) => {
    const ingest = join(dir, "ingest-1");
    const blob = join(dir, "blob");
    const data = randomBytes(40_000);
    const file = await open(ingest, "w");
    try {
      const feed = new WatchedFeed(new GrowingFile(ingest));
      await file.write(data, 0, 10_000, 0);
      const waiting = feed.nextWait();
      feed.inner.grow(10_000);
      const reader = consume(followFile(feed, 4096));
      await waiting;
      assert.ok(reader.bytes().equals(data.subarray(0, 10_000)));

      await file.write(data, 10_000, 30_000, 10_000);
      await link(ingest, blob);
      await unlink(ingest);
      feed.inner.finish(data.length, blob);
      await reader.done;
      assert.ok(reader.bytes().equals(data));
    } finally {
      await file.close();
    }
  });
});

test("a complete feed at a path that does not exist fails with ENOENT instead of waiting", async () => {
  await withTempDir(async (dir) => {
    const reader = consume(followFile(new GrowingFile(join(dir, "gone"), 10, true)));
    await assert.rejects(reader.done, (e: NodeJS.ErrnoException) => e.code === "ENOENT");
  });
});

test("a feed complete from the start is read once, without waiting, and no further than its size", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "blob");
    const data = randomBytes(200_000);
    await writeFile(path, data);

    const whole = new WatchedFeed(new GrowingFile(path, data.length, true));
    const all: Buffer[] = [];
    for await (const c of followFile(whole)) all.push(c);
    assert.equal(all.length, 1, "one read of the whole file");
    assert.ok(all[0]?.equals(data));
    assert.equal(whole.waits, 0, "never waited for a change");

    const part = new WatchedFeed(new GrowingFile(path, 1234, true));
    const some: Buffer[] = [];
    for await (const c of followFile(part)) some.push(c);
    assert.ok(Buffer.concat(some).equals(data.subarray(0, 1234)), "the bytes past the size are not read");
    assert.equal(part.waits, 0);

    const empty = new WatchedFeed(new GrowingFile(path, 0, true));
    const none: Buffer[] = [];
    for await (const c of followFile(empty)) none.push(c);
    assert.equal(none.length, 0);
    assert.equal(empty.waits, 0);
  });
});

test("readBytes bounds each chunk; chunks are full-size whenever enough bytes are available", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "ingest");
    const data = randomBytes(1000);
    await writeFile(path, data);
    const feed = new WatchedFeed(new GrowingFile(path));
    const sizes: number[] = [];
    const it = followFile(feed, 7);
    const reading = (async () => {
      for await (const c of it) sizes.push(c.length);
    })();
    for (const n of [3, 10, 100, 101, 999]) {
      const waiting = feed.nextWait();
      feed.inner.grow(n);
      await waiting;
    }
    feed.inner.finish(1000);
    await reading;
    assert.equal(sizes.reduce((a, b) => a + b, 0), 1000);
    assert.ok(sizes.every((s) => s > 0 && s <= 7), `chunk sizes ${sizes.join(",")}`);
    // grow to 3 | 10 | 100 | 101 | 999 | finish 1000: a short chunk only where `available` ended
    assert.deepEqual(sizes, [3, 7, ...Array<number>(12).fill(7), 6, 1, ...Array<number>(128).fill(7), 2, 1]);
  });
});

test("a file shorter than the writer announced is an error, not a short read", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "blob");
    await writeFile(path, randomBytes(50));
    const reader = consume(followFile(new GrowingFile(path, 100, true), 16));
    await assert.rejects(reader.done, /ends at 50 bytes, 100 were written/);
    assert.equal(reader.bytes().length, 50, "what is there comes out first");
  });
});

test("several readers can follow one feed and all get the same bytes", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "ingest");
    const data = randomBytes(70_000);
    const file = await open(path, "w");
    try {
      const growing = new GrowingFile(path);
      const a = consume(followFile(growing, 1000));
      const b = consume(followFile(growing, 4096));
      for (let at = 0; at < data.length; at += 7000) {
        await file.write(data, at, 7000, at);
        growing.grow(at + 7000);
        await tick();
      }
      const c = consume(followFile(growing)); // a latecomer starts from the beginning
      growing.finish(data.length);
      await Promise.all([a.done, b.done, c.done]);
      for (const r of [a, b, c]) assert.ok(r.bytes().equals(data));
    } finally {
      await file.close();
    }
  });
});

test("a reader that stops early closes the file", { skip: process.platform !== "linux" && "needs /proc/self/fd" }, async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "blob");
    await writeFile(path, randomBytes(100_000));
    const openOn = async (p: string): Promise<number> => {
      let n = 0;
      for (const fd of await readdir("/proc/self/fd")) {
        const target = await readlink(join("/proc/self/fd", fd)).catch(() => "");
        if (target === p) n++;
      }
      return n;
    };
    const growing = new GrowingFile(path, 100_000); // not complete: it would wait at the end
    for await (const c of followFile(growing, 1000)) {
      assert.equal(c.length, 1000);
      assert.equal(await openOn(path), 1, "open while reading");
      break;
    }
    assert.equal(await openOn(path), 0, "closed after the consumer stopped");
  });
});

test("GrowingFile: grow never goes back, changed() resolves on each change, and finish sets size and path", async () => {
  const g = new GrowingFile("/nowhere/a", 10);
  assert.equal(g.available, 10);
  assert.equal(g.complete, false);

  let woke = false;
  const first = g.changed().then(() => (woke = true));
  g.grow(5); // smaller: not a change
  g.grow(10); // the same: not a change
  await settle();
  assert.equal(woke, false);
  assert.equal(g.available, 10);
  g.grow(11);
  await first;
  assert.equal(g.available, 11);

  const second = g.changed();
  g.finish(20, "/nowhere/b");
  await second;
  assert.equal(g.available, 20);
  assert.equal(g.path, "/nowhere/b");
  assert.equal(g.complete, true);
});
