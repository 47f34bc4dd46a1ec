import assert from "node:assert/strict";
import { test } from "node:test";
import { digestOf } from "../../../src/oci/index.js";
import { MemoryContentStore, readBlob } from "../../../src/store/index.js";
import { bytes, contentStoreSuite, ingest, readAll } from "./content-suite.js";

contentStoreSuite("MemoryContentStore", async ({ clock }) => new MemoryContentStore({ clock }));

test("MemoryContentStore: its writers have no file path to follow", async () => {
  const store = new MemoryContentStore();
  const w = await store.writer({ ref: "b" });
  assert.equal(w.path, undefined, "nothing to follow on disk");
  await w.abort();
});

test("MemoryContentStore: copies what is written, so callers may reuse their buffers", async () => {
  const store = new MemoryContentStore();
  const data = bytes(4096, 3);
  const digest = digestOf(data);
  const buf = Buffer.alloc(1024);
  const w = await store.writer({ ref: "pooled" });
  for (let i = 0; i < data.length; i += buf.length) {
    data.copy(buf, 0, i, i + buf.length);
    await w.write(buf);
    buf.fill(0xee); // the pool hands the buffer on
  }
  await w.commit({ digest, size: data.length });
  assert.deepEqual(await readBlob(store, digest), data);
  assert.deepEqual(await readAll(await store.reader(digest, { offset: 1000, length: 24 })), data.subarray(1000, 1024));
});

test("MemoryContentStore: two instances share nothing", async () => {
  const a = new MemoryContentStore();
  const b = new MemoryContentStore();
  const digest = await ingest(a, "x", bytes(10));
  assert.equal(await b.info(digest), undefined);
  const w = await a.writer({ ref: "same-ref" });
  const w2 = await b.writer({ ref: "same-ref" }); // locks are per instance
  await Promise.all([w.abort(), w2.abort()]);
});
