import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { isFailedPrecondition } from "../../../src/errdefs/index.js";
import { digestOf } from "../../../src/oci/index.js";
import { corruptBlobError, hashBlob, hashBytes, LocalContentStore, matchesBlob, verifiedStream } from "../../../src/store/index.js";
import { ingest } from "./content-suite.js";

async function storeWith(t: TestContext, data: Buffer): Promise<LocalContentStore> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-verify-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = new LocalContentStore(join(dir, "content"));
  await ingest(store, "blob", data);
  return store;
}

async function collect(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of src) chunks.push(c);
  return Buffer.concat(chunks);
}

void test("hashBlob tells what a stored blob's bytes are now, also after they changed on disk", async (t) => {
  const data = Buffer.from("layer bytes ".repeat(100));
  const d = digestOf(data);
  const store = await storeWith(t, data);
  assert.deepEqual(await hashBlob(store, d), { digest: d, size: data.length });
  assert.ok(matchesBlob(await hashBlob(store, d), { digest: d, size: data.length }));

  const changed = Buffer.from(data);
  changed[10] = 0x58;
  await chmod(store.path(d), 0o644);
  await writeFile(store.path(d), changed);
  const got = await hashBlob(store, d);
  assert.deepEqual(got, { digest: digestOf(changed), size: data.length });
  assert.ok(!matchesBlob(got, { digest: d }));
  assert.ok(!matchesBlob({ digest: d, size: 3 }, { digest: d, size: 4 }), "the size counts when it is known");
  assert.ok(matchesBlob(hashBytes(data, { digest: d }), { digest: d }));
});

void test("corruptBlobError names what relies on the blob, the blob, what its bytes are, and what to do", () => {
  const d = digestOf("a");
  const err = corruptBlobError({ digest: d, size: 1 }, { digest: digestOf("ab"), size: 2 }, { what: "image x:v1" });
  assert.ok(isFailedPrecondition(err));
  assert.equal(err.message, `image x:v1: blob ${d} in the content store is corrupt: its 2 bytes hash to ${digestOf("ab")}, expected 1 bytes; `
    + "run `podyard fsck --repair`, then pull (or load) the image again");
});

void test("verifiedStream passes the bytes through and fails at their end when they are not the blob expected", async () => {
  const data = Buffer.from("config");
  const want = { digest: digestOf(data), size: data.length };
  assert.deepEqual(await collect(verifiedStream([data.subarray(0, 3), data.subarray(3)], want, () => new Error("mismatch"))), data);
  await assert.rejects(collect(verifiedStream([Buffer.from("cOnfig")], want, (got) => new Error(`got ${got.digest}`))), new RegExp(`got ${digestOf("cOnfig")}`));
  await assert.rejects(collect(verifiedStream([Buffer.from("conf")], want, (got) => new Error(`got ${got.size} bytes`))), /got 4 bytes/);
});
