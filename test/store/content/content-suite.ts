/**
 * The behaviour every ContentStore must show (containerd's `content/testsuite`,
 * STYLE.md R11). An implementation runs it with
 *
 *   contentStoreSuite("LocalContentStore", async ({ clock }) => new LocalContentStore(dir, { clock }));
 *
 * and may skip a test only by naming it with a reason.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Readable } from "node:stream";
import { FakeClock } from "../../../src/clock/index.js";
import { digestOf, type Digest } from "../../../src/oci/index.js";
import { readBlob, type BlobWriter, type ContentStore, type Info } from "../../../src/store/index.js";

export interface ContentSuiteContext {
  /** The clock the store must read its times from. */
  clock: FakeClock;
}

export interface SuiteSkip {
  test: string;
  reason: string;
}

export interface ContentSuiteOptions {
  skip?: SuiteSkip[];
}

export const SUITE_START = Date.UTC(2025, 0, 1);

/** `n` deterministic bytes, different per `seed`. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return b;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Writes `data` under `ref` in chunks of `chunk` bytes and commits it. */
export async function ingest(store: ContentStore, ref: string, data: Uint8Array, opts: { chunk?: number; labels?: Record<string, string> } = {}): Promise<Digest> {
  const digest = digestOf(data);
  const w = await store.writer({ ref, expected: { digest, size: data.length } });
  await writeChunks(w, data, opts.chunk ?? 1000);
  await w.commit({ digest, size: data.length, ...(opts.labels === undefined ? {} : { labels: opts.labels }) });
  return digest;
}

export async function writeChunks(w: BlobWriter, data: Uint8Array, chunk = 1000): Promise<void> {
  for (let i = 0; i < data.length; i += chunk) await w.write(data.subarray(i, i + chunk));
}

async function collect(it: AsyncIterable<Info>): Promise<Info[]> {
  const out: Info[] = [];
  for await (const i of it) out.push(i);
  return out;
}

export function contentStoreSuite(
  name: string,
  create: (ctx: ContentSuiteContext) => Promise<ContentStore>,
  opts: ContentSuiteOptions = {},
): void {
  const skips = new Map((opts.skip ?? []).map((s) => [s.test, s.reason]));
  const setup = async (): Promise<{ store: ContentStore; clock: FakeClock }> => {
    const clock = new FakeClock(SUITE_START);
    return { store: await create({ clock }), clock };
  };
  const it = (title: string, fn: (s: { store: ContentStore; clock: FakeClock }) => Promise<void>): void => {
    const reason = skips.get(title);
    if (reason !== undefined) test(title, { skip: reason }, () => undefined);
    else test(title, async () => fn(await setup()));
  };

  describe(`ContentStore suite: ${name}`, () => {
    it("writes, commits and reads back a blob, whole and by range", async ({ store, clock }) => {
      const data = bytes(10_000);
      const digest = digestOf(data);
      clock.step(5_000);
      const w = await store.writer({ ref: "layer-1", expected: { digest, size: data.length } });
      assert.equal(w.ref, "layer-1");
      assert.equal(w.offset, 0);
      await writeChunks(w, data, 777);
      assert.equal(w.offset, data.length);
      assert.equal(w.digest(), digest);
      await w.commit({ digest, size: data.length });

      const info = await store.info(digest);
      assert.deepEqual(info, { digest, size: data.length, createdAt: SUITE_START + 5_000, updatedAt: SUITE_START + 5_000, labels: {} });
      assert.deepEqual(await readAll(await store.reader(digest)), data);
      assert.deepEqual(await readAll(await store.reader(digest, { offset: 100, length: 50 })), data.subarray(100, 150));
      assert.deepEqual(await readAll(await store.reader(digest, { offset: 9_990 })), data.subarray(9_990));
      assert.deepEqual(await readAll(await store.reader(digest, { offset: 10_000 })), Buffer.alloc(0));
      assert.deepEqual(await readBlob(store, digest), data);
      await assert.rejects(store.reader(digest, { offset: 10_001 }), { code: "OutOfRange" });
      await assert.rejects(store.status("layer-1"), { code: "NotFound" }, "a committed ingest is gone");
    });

    it("commits an empty blob", async ({ store }) => {
      const digest = digestOf("");
      const w = await store.writer({ ref: "empty" });
      await w.commit({ digest, size: 0 });
      assert.equal((await store.info(digest))?.size, 0);
      assert.deepEqual(await readAll(await store.reader(digest)), Buffer.alloc(0));
    });

    it("shows nothing before the commit", async ({ store }) => {
      const data = bytes(4096);
      const digest = digestOf(data);
      const w = await store.writer({ ref: "pending" });
      await w.write(data);
      assert.equal(await store.info(digest), undefined);
      await assert.rejects(store.reader(digest), { code: "NotFound", message: `content ${digest}: not found` });
      assert.deepEqual(await collect(store.walk()), []);
      await w.close();
      assert.equal(await store.info(digest), undefined);
    });

    it("refuses a commit whose digest differs, shows nothing and drops the ingest", async ({ store }) => {
      const data = bytes(3000);
      const wrong = digestOf("something else");
      const w = await store.writer({ ref: "bad-digest" });
      await w.write(data);
      await assert.rejects(w.commit({ digest: wrong, size: data.length }), {
        code: "FailedPrecondition",
        message: `unexpected commit digest ${digestOf(data)}, expected ${wrong}`,
      });
      assert.equal(await store.info(wrong), undefined);
      assert.equal(await store.info(digestOf(data)), undefined);
      await assert.rejects(store.status("bad-digest"), { code: "NotFound" });
      const again = await store.writer({ ref: "bad-digest" });
      assert.equal(again.offset, 0, "a retry starts from scratch instead of resuming into the same mismatch");
      await again.abort();
    });

    it("refuses a commit whose size differs and keeps the ingest to resume", async ({ store }) => {
      const data = bytes(6);
      const digest = digestOf(data);
      const w = await store.writer({ ref: "short" });
      await w.write(data.subarray(0, 5));
      await assert.rejects(w.commit({ digest, size: 6 }), { code: "FailedPrecondition", message: "unexpected commit size 5, expected 6" });
      assert.equal(await store.info(digest), undefined);
      await assert.rejects(w.write(data), { code: "FailedPrecondition" }, "commit closes the writer even when it fails");
      assert.equal((await store.status("short")).offset, 5);
      const resumed = await store.writer({ ref: "short" });
      assert.equal(resumed.offset, 5);
      await resumed.write(data.subarray(5));
      await resumed.commit({ digest, size: 6 });
      assert.deepEqual(await readBlob(store, digest), data);
    });

    it("checks the size announced when the writer was opened", async ({ store }) => {
      const data = bytes(10);
      const digest = digestOf(data);
      const w = await store.writer({ ref: "announced", expected: { digest, size: 11 } });
      await w.write(data);
      await assert.rejects(w.commit({ digest }), { code: "FailedPrecondition", message: "unexpected commit size 10, expected 11" });
    });

    it("resumes a closed ingest: offset, status and a digest that continues", async ({ store, clock }) => {
      const data = bytes(50_000, 2);
      const digest = digestOf(data);
      const w = await store.writer({ ref: "resume", expected: { digest, size: data.length } });
      await w.write(data.subarray(0, 20_000));
      const partial = w.digest();
      assert.equal(partial, digestOf(data.subarray(0, 20_000)));
      clock.step(2_000);
      await w.close();
      await w.close(); // idempotent
      await assert.rejects(w.write(data), { code: "FailedPrecondition" });

      const status = await store.status("resume");
      assert.deepEqual(status, { ref: "resume", offset: 20_000, total: data.length, startedAt: SUITE_START, updatedAt: SUITE_START + 2_000 });
      assert.deepEqual(await store.listStatuses(), [status]);

      const r = await store.writer({ ref: "resume", expected: { digest, size: data.length } });
      assert.equal(r.offset, 20_000);
      assert.equal(r.digest(), partial);
      await r.write(data.subarray(20_000));
      assert.equal(r.digest(), digest);
      await r.commit({ digest, size: data.length });
      assert.deepEqual(await readBlob(store, digest), data);
      assert.deepEqual(await store.listStatuses(), []);
    });

    it("lets one writer hold a ref at a time", async ({ store }) => {
      const results = await Promise.allSettled([store.writer({ ref: "busy" }), store.writer({ ref: "busy" })]);
      const ok = results.filter((r) => r.status === "fulfilled");
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      assert.equal(ok.length, 1);
      assert.equal(failed.length, 1);
      assert.equal((failed[0]?.reason as { code?: string }).code, "Unavailable");
      assert.match((failed[0]?.reason as Error).message, /^ref busy locked/);
      await assert.rejects(store.abort("busy"), { code: "Unavailable" }, "an open writer's ingest cannot be aborted from outside");

      const other = await store.writer({ ref: "other" }); // other refs are free
      await other.close();
      const holder = (ok[0] as PromiseFulfilledResult<BlobWriter>).value;
      await holder.write(bytes(10));
      await holder.close();
      const next = await store.writer({ ref: "busy" });
      assert.equal(next.offset, 10);
      await next.abort();
    });

    it("reports AlreadyExists for content already committed, and keeps it", async ({ store }) => {
      const data = bytes(2048, 3);
      const digest = await ingest(store, "first", data);
      await assert.rejects(store.writer({ ref: "second", expected: { digest } }), { code: "AlreadyExists" });
      const w = await store.writer({ ref: "third" });
      await w.write(data);
      await assert.rejects(w.commit({ digest, size: data.length }), { code: "AlreadyExists", message: `content ${digest}: already exists` });
      await assert.rejects(store.status("third"), { code: "NotFound" }, "the duplicate ingest is removed");
      assert.deepEqual(await readBlob(store, digest), data);
    });

    it("commits the same content from two refs at once: one wins, one AlreadyExists", async ({ store }) => {
      const data = bytes(100_000, 4);
      const digest = digestOf(data);
      const [a, b] = await Promise.all([store.writer({ ref: "race-a" }), store.writer({ ref: "race-b" })]);
      await Promise.all([writeChunks(a, data, 4096), writeChunks(b, data, 5000)]);
      const results = await Promise.allSettled([a.commit({ digest, size: data.length }), b.commit({ digest, size: data.length })]);
      assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      assert.equal((rejected?.reason as { code?: string }).code, "AlreadyExists");
      assert.deepEqual(await readBlob(store, digest), data);
      assert.deepEqual(await store.listStatuses(), []);
    });

    it("deletes blobs", async ({ store }) => {
      const digest = await ingest(store, "del", bytes(100), { labels: { "containerd.io/gc.root": "x" } });
      await store.delete(digest);
      assert.equal(await store.info(digest), undefined);
      await assert.rejects(store.reader(digest), { code: "NotFound" });
      await assert.rejects(store.delete(digest), { code: "NotFound", message: `content ${digest}: not found` });
      await ingest(store, "del-again", bytes(100));
      assert.deepEqual((await store.info(digest))?.labels, {}, "a blob committed again does not inherit deleted labels");
    });

    it("walks every committed blob and nothing else", async ({ store }) => {
      const a = await ingest(store, "a", bytes(10, 1));
      const b = await ingest(store, "b", bytes(20, 2));
      const open = await store.writer({ ref: "c" });
      await open.write(bytes(30, 3));
      const seen = await collect(store.walk());
      assert.deepEqual(seen.map((i) => i.digest).sort(), [a, b].sort());
      assert.deepEqual(seen.map((i) => i.size).sort((x, y) => x - y), [10, 20]);
      await open.abort();
    });

    it("keeps labels: at commit, replaced, merged on AlreadyExists, checked", async ({ store, clock }) => {
      const data = bytes(64, 5);
      const digest = await ingest(store, "lab", data, { labels: { "containerd.io/gc.root": "2025-01-01T00:00:00Z" } });
      assert.deepEqual((await store.info(digest))?.labels, { "containerd.io/gc.root": "2025-01-01T00:00:00Z" });

      clock.step(60_000);
      const info = await store.setLabels(digest, { "containerd.io/gc.ref.content.l.0": "sha256:x" });
      assert.deepEqual(info.labels, { "containerd.io/gc.ref.content.l.0": "sha256:x" });
      assert.equal(info.updatedAt, SUITE_START + 60_000);
      assert.equal(info.createdAt, SUITE_START);
      assert.deepEqual(await store.info(digest), info);

      const w = await store.writer({ ref: "lab-2" });
      await w.write(data);
      await assert.rejects(w.commit({ digest, labels: { extra: "1" } }), { code: "AlreadyExists" });
      assert.deepEqual((await store.info(digest))?.labels, { "containerd.io/gc.ref.content.l.0": "sha256:x", extra: "1" });

      await assert.rejects(store.setLabels(digestOf("absent"), { a: "b" }), { code: "NotFound" });
      await assert.rejects(store.setLabels(digest, { k: "v".repeat(4096) }), {
        code: "InvalidArgument",
        message: "label key and value length (4097 bytes) greater than maximum size (4096 bytes), key: k",
      });
    });

    it("aborts ingests from the writer and from the store", async ({ store }) => {
      const w = await store.writer({ ref: "ab-1" });
      await w.write(bytes(10));
      await w.abort();
      await assert.rejects(store.status("ab-1"), { code: "NotFound" });
      await assert.rejects(w.write(bytes(1)), { code: "FailedPrecondition" });

      const w2 = await store.writer({ ref: "ab-2" });
      await w2.write(bytes(10));
      await w2.close();
      await store.abort("ab-2");
      await assert.rejects(store.status("ab-2"), { code: "NotFound" });
      await assert.rejects(store.abort("ab-2"), { code: "NotFound", message: "ingest of ref ab-2: not found" });

      const w3 = await store.writer({ ref: "ab-3" });
      await w3.write(bytes(3));
      await assert.rejects(w3.commit({ digest: digestOf("x"), size: 4 }), { code: "FailedPrecondition" });
      await w3.abort(); // after a failed commit the caller can still drop the ingest
      await assert.rejects(store.status("ab-3"), { code: "NotFound" });
    });

    it("lists ingests in progress and left behind", async ({ store, clock }) => {
      const a = await store.writer({ ref: "list-a", expected: { digest: digestOf(bytes(100)), size: 100 } });
      await a.write(bytes(40));
      clock.step(1_000);
      const b = await store.writer({ ref: "list-b" });
      await b.write(bytes(7));
      await b.close();
      const statuses = await store.listStatuses();
      assert.deepEqual(statuses.map((s) => [s.ref, s.offset, s.total, s.startedAt]), [
        ["list-a", 40, 100, SUITE_START],
        ["list-b", 7, undefined, SUITE_START + 1_000],
      ]);
      await a.abort();
    });

    it("prunes ingests not written to for longer than asked, by the injected clock, never one a writer holds", async ({ store, clock }) => {
      const old = await store.writer({ ref: "old" });
      await old.write(bytes(10));
      await old.close(); // updated at the start
      clock.step(10_000);
      const recent = await store.writer({ ref: "recent" });
      await recent.write(bytes(10));
      await recent.close(); // updated at start + 10 s
      const stale = await store.writer({ ref: "open-but-stale" });
      await stale.write(bytes(10));

      clock.step(5_000);
      assert.deepEqual(await store.pruneIngests(15_000), [], "old is exactly 15 s old: not older than 15 s");
      clock.step(1);
      assert.deepEqual(await store.pruneIngests(15_000), ["old"]);
      assert.deepEqual((await store.listStatuses()).map((s) => s.ref), ["open-but-stale", "recent"]);

      clock.step(60_000);
      assert.deepEqual(await store.pruneIngests(1_000), ["recent"], "an ingest held by a writer is never pruned");
      await stale.write(bytes(1));
      await stale.close();
      assert.deepEqual(await store.pruneIngests(1_000), []);
      clock.step(1_001);
      assert.deepEqual(await store.pruneIngests(1_000), ["open-but-stale"]);
      await assert.rejects(store.pruneIngests(-1), { code: "InvalidArgument" });
    });

    it("commits against another algorithm than the default", async ({ store }) => {
      const data = bytes(1000, 6);
      const d512 = digestOf(data, "sha512");
      const w = await store.writer({ ref: "sha512" });
      await w.write(data);
      await w.commit({ digest: d512, size: data.length });
      assert.deepEqual(await readBlob(store, d512), data);
      const w2 = await store.writer({ ref: "sha512-b", expected: { digest: digestOf(bytes(10), "sha384") } });
      await w2.write(bytes(10));
      assert.equal(w2.digest(), digestOf(bytes(10), "sha384"));
      await w2.commit({ digest: digestOf(bytes(10), "sha384") });
    });

    it("rejects bad input with InvalidArgument", async ({ store }) => {
      const evil = "sha256:../../../../etc/passwd" as Digest;
      await assert.rejects(store.info(evil), { code: "InvalidArgument" });
      await assert.rejects(store.reader(evil), { code: "InvalidArgument" });
      await assert.rejects(store.delete(evil), { code: "InvalidArgument" });
      await assert.rejects(store.writer({ ref: "" }), { code: "InvalidArgument" });
      await assert.rejects(store.writer({ ref: "x", expected: { digest: "md5:abc" as Digest } }), { code: "InvalidArgument" });
      const w = await store.writer({ ref: "bad-commit" });
      await assert.rejects(w.commit({ digest: "nope" as Digest }), { code: "InvalidArgument" });
      assert.equal((await store.status("bad-commit")).offset, 0, "an invalid commit keeps the ingest");
    });

    it("applies writes in call order even when not awaited one by one", async ({ store }) => {
      const data = bytes(64 * 1024, 7);
      const digest = digestOf(data);
      const w = await store.writer({ ref: "pipelined" });
      const pending: Promise<void>[] = [];
      for (let i = 0; i < data.length; i += 1024) pending.push(w.write(data.subarray(i, i + 1024)));
      const commit = w.commit({ digest, size: data.length });
      await Promise.all(pending);
      await commit;
      assert.deepEqual(await readBlob(store, digest), data);
    });
  });
}
