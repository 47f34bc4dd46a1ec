import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileIfExists } from "../../src/fsutil/index.js";

test("readFileIfExists: the bytes or text of a file, undefined when there is none, other errors thrown", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-read-"));
  try {
    await writeFile(join(dir, "f"), "héllo");
    assert.deepEqual(await readFileIfExists(join(dir, "f")), Buffer.from("héllo"));
    assert.equal(await readFileIfExists(join(dir, "f"), "utf8"), "héllo");
    assert.equal(await readFileIfExists(join(dir, "missing")), undefined);
    assert.equal(await readFileIfExists(join(dir, "missing", "deeper"), "utf8"), undefined);
    await mkdir(join(dir, "d"));
    await assert.rejects(readFileIfExists(join(dir, "d")), /EISDIR/);
    await assert.rejects(readFileIfExists(join(dir, "f", "under-a-file")), /ENOTDIR/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
