import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFile, mkdir, mkdtemp, readFile, readlink, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack } from "tar-stream";
import { gzipSync } from "node:zlib";
import { FailedPreconditionError, isFailedPrecondition, isInvalidArgument } from "../../../src/errdefs/index.js";
import { MediaType, digestOf, writeLayer } from "../../../src/oci/index.js";
import { GrowingFile, WorkerLayerApplier } from "../../../src/store/index.js";

const descriptor = { mediaType: MediaType.ociLayerGzip, digest: digestOf("unused"), size: 0 };

test("a layer extracted in the worker thread gives the same tree and diffID; its errors keep their class", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-worker-"));
  const applier = new WorkerLayerApplier();
  try {
    const layer = await writeLayer([
      { type: "dir", path: "etc", mode: 0o755 },
      { type: "file", path: "etc/motd", content: Buffer.from("hello\n"), mode: 0o644 },
      { type: "symlink", path: "etc/link", linkname: "motd" },
    ], join(dir, "layer.tar.gz"));
    await mkdir(join(dir, "fs"));
    const applied = await applier.apply(join(dir, "fs"), { descriptor, path: join(dir, "layer.tar.gz"), open: () => Promise.reject(new Error("the worker reads the path")) }, {});
    assert.equal(applied.diffID, layer.diffID);
    assert.equal(await readFile(join(dir, "fs", "etc", "motd"), "utf8"), "hello\n");
    assert.equal(await readlink(join(dir, "fs", "etc", "link")), "motd");

    const evil = pack();
    evil.entry({ name: "../escape", size: 1 }, "x");
    evil.finalize();
    const chunks: Buffer[] = [];
    for await (const c of evil) chunks.push(c as Buffer);
    await writeFile(join(dir, "evil.tar.gz"), gzipSync(Buffer.concat(chunks)));
    await mkdir(join(dir, "fs2"));
    await assert.rejects(
      applier.apply(join(dir, "fs2"), { descriptor, path: join(dir, "evil.tar.gz"), open: () => Promise.reject(new Error("unused")) }, {}),
      (err: unknown) => isInvalidArgument(err) && /escape/.test((err as Error).message),
    );
  } finally {
    await applier.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("the worker follows a blob still being written, and fails with the writer's error, class kept", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-worker-feed-"));
  const applier = new WorkerLayerApplier({ workers: 2 });
  try {
    const entries = Array.from({ length: 40 }, (_, i) => ({ type: "file" as const, path: `f${i}`, content: Buffer.alloc(50_000, i), mode: 0o644 }));
    const layer = await writeLayer(entries, join(dir, "layer.tar.gz"));
    const blob = await readFile(join(dir, "layer.tar.gz"));
    const grow = async (path: string, feed: GrowingFile, upTo: number): Promise<void> => {
      const step = Math.ceil(blob.length / 7);
      for (let at = 0; at < upTo; at += step) {
        await appendFile(path, blob.subarray(at, Math.min(at + step, upTo)));
        feed.grow(Math.min(at + step, upTo));
        await new Promise((r) => setImmediate(r));
      }
    };

    // two layers at once, each on its own thread, both growing while they are extracted
    const feeds = [new GrowingFile(join(dir, "a.part")), new GrowingFile(join(dir, "b.part"))];
    await Promise.all(feeds.map((f) => writeFile(f.path, "")));
    await Promise.all(["fs-a", "fs-b"].map((d) => mkdir(join(dir, d))));
    const extracting = ["fs-a", "fs-b"].map((d, i) =>
      applier.apply(join(dir, d), { descriptor, feed: () => Promise.resolve(feeds[i] as GrowingFile), open: () => Promise.reject(new Error("unused")) }, {}));
    await Promise.all(feeds.map((f) => grow(f.path, f, blob.length)));
    // moved into place when finished, as the content store does
    for (const f of feeds) {
      await rename(f.path, `${f.path}.done`);
      f.finish(blob.length, `${f.path}.done`);
    }
    for (const applied of await Promise.all(extracting)) assert.equal(applied.diffID, layer.diffID);
    assert.deepEqual(await readFile(join(dir, "fs-b", "f39")), Buffer.alloc(50_000, 39));

    const failing = new GrowingFile(join(dir, "c.part"));
    await writeFile(failing.path, "");
    await mkdir(join(dir, "fs-c"));
    const doomed = applier.apply(join(dir, "fs-c"), { descriptor, feed: () => Promise.resolve(failing), open: () => Promise.reject(new Error("unused")) }, {});
    await grow(failing.path, failing, Math.floor(blob.length / 2));
    failing.fail(new FailedPreconditionError("unexpected commit digest sha256:0, expected sha256:1"));
    await assert.rejects(doomed, (err: unknown) => isFailedPrecondition(err) && /unexpected commit digest/.test((err as Error).message));
  } finally {
    await applier.close();
    await rm(dir, { recursive: true, force: true });
  }
});
