import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pack } from "tar-stream";
import { gzipSync } from "node:zlib";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { MediaType, digestOf, writeLayer } from "../../../src/oci/index.js";
import { WorkerLayerApplier } from "../../../src/store/index.js";

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
