import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import {
  CompactedError, KeyExistsError, RevisionConflictError, SqliteStorage, WatchOverflowError, type StorageEvent,
} from "../../src/apiserver/index.js";

function tempStore(t: { after: (fn: () => void) => void }): { dir: string; open: () => SqliteStorage } {
  const dir = mkdtempSync(join(tmpdir(), "podyard-storage-"));
  const opened: SqliteStorage[] = [];
  t.after(() => {
    for (const s of opened) s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, open: () => { const s = new SqliteStorage(join(dir, "api.db")); opened.push(s); return s; } };
}

test("create, get, compare-and-swap update and delete keep one rising revision", async (t) => {
  const s = tempStore(t).open();
  const r1 = await s.create("/registry/pods/default/a", "one");
  assert.equal(r1, 1);
  await assert.rejects(s.create("/registry/pods/default/a", "again"), KeyExistsError);
  const kv = await s.get("/registry/pods/default/a");
  assert.deepEqual({ value: kv?.value.toString(), mod: kv?.modRevision, created: kv?.createRevision }, { value: "one", mod: 1, created: 1 });
  const r2 = await s.update("/registry/pods/default/a", "two", 1);
  assert.equal(r2, 2);
  await assert.rejects(s.update("/registry/pods/default/a", "stale", 1), RevisionConflictError);
  assert.equal((await s.get("/registry/pods/default/a"))?.createRevision, 1);
  await assert.rejects(s.delete("/registry/pods/default/a", 1), RevisionConflictError);
  assert.equal(await s.delete("/registry/pods/default/a", 2), 3);
  assert.equal(await s.get("/registry/pods/default/a"), undefined);
  assert.equal(s.currentRevision(), 3);
  // A re-created key starts a new life.
  assert.equal(await s.create("/registry/pods/default/a", "new"), 4);
  assert.equal((await s.get("/registry/pods/default/a"))?.createRevision, 4);
});

test("range lists a prefix in key order, pages with limit and startKey, and reads an older revision", async (t) => {
  const s = tempStore(t).open();
  for (const n of ["c", "a", "b"]) await s.create(`/registry/pods/default/${n}`, n);
  await s.create("/registry/pods/defaultx/z", "other namespace");
  const all = await s.range("/registry/pods/default/");
  assert.deepEqual(all.kvs.map((k) => k.value.toString()), ["a", "b", "c"]);
  assert.equal(all.revision, 4);
  const page = await s.range("/registry/pods/default/", { limit: 2 });
  assert.deepEqual(page.kvs.map((k) => k.value.toString()), ["a", "b"]);
  assert.equal(page.more, true);
  const rest = await s.range("/registry/pods/default/", { startKey: "/registry/pods/default/b\0" });
  assert.deepEqual(rest.kvs.map((k) => k.value.toString()), ["c"]);
  await s.update("/registry/pods/default/a", "a2", 2);
  await s.delete("/registry/pods/default/b");
  const old = await s.range("/registry/pods/default/", { revision: 4 });
  assert.deepEqual(old.kvs.map((k) => k.value.toString()), ["a", "b", "c"]);
  const now = await s.range("/registry/pods/default/");
  assert.deepEqual(now.kvs.map((k) => k.value.toString()), ["a2", "c"]);
});

async function take(it: AsyncIterator<StorageEvent>, n: number): Promise<StorageEvent[]> {
  const out: StorageEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

test("watch replays history from a revision with prevKv, then follows live writes", async (t) => {
  const s = tempStore(t).open();
  await s.create("/registry/pods/default/a", "1");
  await s.update("/registry/pods/default/a", "2", 1);
  await s.create("/registry/nodes/n", "node");
  const ac = new AbortController();
  t.after(() => ac.abort());
  const it = s.watch("/registry/pods/", 2, ac.signal)[Symbol.asyncIterator]();
  const [replayed] = await take(it, 1);
  assert.equal(replayed?.type, "PUT");
  assert.equal(replayed?.kv.value.toString(), "2");
  assert.equal(replayed?.prevKv?.value.toString(), "1");
  await s.delete("/registry/pods/default/a");
  await s.create("/registry/pods/default/b", "b");
  const live = await take(it, 2);
  assert.deepEqual(live.map((e) => [e.type, e.kv.key, e.kv.modRevision, e.prevKv?.value.toString()]), [
    ["DELETE", "/registry/pods/default/a", 4, "2"],
    ["PUT", "/registry/pods/default/b", 5, undefined],
  ]);
});

test("after compaction, a watch or read from before it fails as compacted; current values stay", async (t) => {
  const s = tempStore(t).open();
  await s.create("/registry/pods/default/a", "1");
  await s.update("/registry/pods/default/a", "2", 1);
  await s.create("/registry/pods/default/gone", "x");
  await s.delete("/registry/pods/default/gone");
  await s.compact(4);
  assert.equal(s.compactedRevision(), 4);
  assert.throws(() => s.watch("/registry/pods/", 3, new AbortController().signal), CompactedError);
  await assert.rejects(s.range("/registry/pods/", { revision: 2 }), CompactedError);
  assert.deepEqual((await s.range("/registry/pods/")).kvs.map((k) => k.value.toString()), ["2"]);
  // Watching from just after the compacted revision still works.
  const ac = new AbortController();
  t.after(() => ac.abort());
  const it = s.watch("/registry/pods/", 5, ac.signal)[Symbol.asyncIterator]();
  await s.update("/registry/pods/default/a", "3", 2);
  const [ev] = await take(it, 1);
  assert.equal(ev?.kv.value.toString(), "3");
});

test("a watcher that falls too far behind is dropped instead of buffering without end", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "podyard-storage-"));
  const s = new SqliteStorage(join(dir, "api.db"), { maxWatchBacklog: 5 });
  t.after(() => { s.close(); rmSync(dir, { recursive: true, force: true }); });
  const ac = new AbortController();
  const it = s.watch("/registry/", 0, ac.signal)[Symbol.asyncIterator]();
  for (let i = 0; i < 10; i++) await s.create(`/registry/configmaps/default/c${i}`, "x");
  await assert.rejects(it.next(), WatchOverflowError);
});

test("every acknowledged write survives kill -9 of the writing process", async (t) => {
  const { dir, open } = tempStore(t);
  const path = join(dir, "api.db");
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures", "storage-writer.ts"), path], { stdio: ["ignore", "pipe", "inherit"] });
  t.after(() => { if (child.exitCode === null) child.kill("SIGKILL"); });
  const acked: string[] = [];
  const lines = createInterface({ input: child.stdout });
  await new Promise<void>((resolve) => {
    lines.on("line", (line) => {
      if (line.startsWith("acked ")) acked.push(line.slice(6));
      if (acked.length === 300) { child.kill("SIGKILL"); resolve(); }
    });
    child.on("exit", () => resolve());
  });
  await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.on("exit", () => resolve())));
  assert.equal(child.signalCode, "SIGKILL");
  const s = open();
  const stored = new Set((await s.range("/registry/configmaps/")).kvs.map((k) => k.key));
  const missing = acked.filter((k) => !stored.has(k));
  assert.deepEqual(missing, []);
  assert.ok(s.currentRevision() >= acked.length);
});

test("a watch from a revision not reached yet starts there, not at the next write", async (t) => {
  const s = tempStore(t).open();
  await s.create("/registry/pods/default/a", "1");
  const ac = new AbortController();
  t.after(() => ac.abort());
  const it = s.watch("/registry/pods/", 4, ac.signal)[Symbol.asyncIterator]();
  await s.update("/registry/pods/default/a", "2", 1);
  await s.update("/registry/pods/default/a", "3", 2);
  await s.update("/registry/pods/default/a", "4", 3);
  const [ev] = await take(it, 1);
  assert.deepEqual([ev?.kv.modRevision, ev?.kv.value.toString()], [4, "4"]);
});
