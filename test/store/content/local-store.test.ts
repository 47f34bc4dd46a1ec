import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FakeClock } from "../../../src/clock/index.js";
import { digestOf, type Digest } from "../../../src/oci/index.js";
import { LocalContentStore, readBlob } from "../../../src/store/index.js";
import { bytes, contentStoreSuite, ingest, SUITE_START, writeChunks } from "./content-suite.js";

const dirs: string[] = [];
after(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempRoot(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "podyard-content-"));
  dirs.push(d);
  return join(d, "content");
}

async function newStore(clock = new FakeClock(SUITE_START)): Promise<{ store: LocalContentStore; root: string; clock: FakeClock }> {
  const root = await tempRoot();
  return { store: new LocalContentStore(root, { clock }), root, clock };
}

/** Every file under `root/blobs`, relative to `root`. */
async function blobFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(relative(root, p));
    }
  };
  await walk(join(root, "blobs"));
  return out.sort();
}

const ingestName = (ref: string): string => createHash("sha256").update(ref).digest("hex");

contentStoreSuite("LocalContentStore", async ({ clock }) => new LocalContentStore(await tempRoot(), { clock }));

test("lays blobs and ingests out as containerd's local store", async () => {
  const { store, root } = await newStore();
  const data = bytes(5000);
  const digest = digestOf(data);
  const w = await store.writer({ ref: "layer-sha256:abc", expected: { digest, size: data.length } });
  await w.write(data.subarray(0, 1000));
  const ingestDir = join(root, "ingest", ingestName("layer-sha256:abc"));
  assert.deepEqual((await readdir(ingestDir)).sort(), ["data", "ref", "startedat", "total", "updatedat"]);
  assert.equal(await readFile(join(ingestDir, "ref"), "utf8"), "layer-sha256:abc");
  assert.equal(await readFile(join(ingestDir, "total"), "utf8"), "5000");
  assert.equal(await readFile(join(ingestDir, "startedat"), "utf8"), new Date(SUITE_START).toISOString());
  await w.write(data.subarray(1000));
  await w.commit({ digest, size: data.length, labels: { a: "b" } });

  const blob = join(root, "blobs", "sha256", digest.slice("sha256:".length));
  assert.equal(store.path(digest), blob);
  const st = await stat(blob);
  assert.equal(st.mode & 0o777, 0o444, "blobs are read-only after commit");
  assert.equal(st.mtimeMs, SUITE_START);
  assert.deepEqual(await readdir(join(root, "ingest")), [], "the ingest directory is removed");
  const side = JSON.parse(await readFile(join(root, "labels", "sha256", `${digest.slice(7)}.json`), "utf8")) as unknown;
  assert.deepEqual(side, { labels: { a: "b" }, updatedAt: SUITE_START });
});

test("resumes an ingest whose writer was SIGKILLed mid-write", async () => {
  const { store, root } = await newStore();
  const data = bytes(3 * 1024 * 1024, 9);
  const digest = digestOf(data);
  const half = data.length / 2;
  const entry = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), "../../../src/store/index.ts")).href;
  const script = `
    const [entry, root, digest, size, half] = process.argv.slice(1);
    const { LocalContentStore } = await import(entry);
    const data = Buffer.alloc(Number(size));
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 9 * 17 + (i >> 8)) & 0xff;
    const store = new LocalContentStore(root);
    const w = await store.writer({ ref: "crash", expected: { digest, size: Number(size) } });
    for (let i = 0; i < Number(half); i += 65536) await w.write(data.subarray(i, i + 65536));
    void w.write(data.subarray(Number(half), Number(half) + 65536)); // in flight when the process dies
    process.kill(process.pid, "SIGKILL");
  `;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script, entry, root, digest, String(data.length), String(half)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.once("error", rej);
    child.once("close", (c, s) => res([c, s]));
  });
  assert.equal(signal, "SIGKILL", `child exited with code ${code}: ${stderr}`);

  assert.deepEqual(await blobFiles(root), [], "nothing of a killed writer is visible");
  const status = await store.status("crash");
  assert.ok(status.offset >= half && status.offset <= half + 65536, `offset ${status.offset}`);
  assert.equal(status.total, data.length);

  const w = await store.writer({ ref: "crash", expected: { digest, size: data.length } });
  assert.equal(w.offset, status.offset);
  assert.equal(w.digest(), digestOf(data.subarray(0, w.offset)), "the digester is rebuilt from the partial data");
  await writeChunks(w, data.subarray(w.offset), 100_000);
  await w.commit({ digest, size: data.length });
  assert.deepEqual(await readBlob(store, digest), data);
});

test("never shows a partial blob under blobs/", async () => {
  const { store, root } = await newStore();
  const good = await ingest(store, "good", bytes(100, 1));
  const want = [`blobs/sha256/${good.slice(7)}`];
  const data = bytes(200_000, 2);
  const w = await store.writer({ ref: "partial" });
  for (let i = 0; i < data.length; i += 50_000) {
    await w.write(data.subarray(i, i + 50_000));
    assert.deepEqual(await blobFiles(root), want);
  }
  await assert.rejects(w.commit({ digest: digestOf("other"), size: data.length }), { code: "FailedPrecondition" });
  assert.deepEqual(await blobFiles(root), want);
  const short = await store.writer({ ref: "short" });
  await short.write(data.subarray(0, 10));
  await assert.rejects(short.commit({ digest: digestOf(data), size: data.length }), { code: "FailedPrecondition" });
  await short.close();
  assert.deepEqual(await blobFiles(root), want);
});

test("prune removes what interrupted starts and aborts left behind, and nothing a writer holds", async () => {
  const { store, root } = await newStore();
  const held = await store.writer({ ref: "held" });
  await mkdir(join(root, "ingest", `${ingestName("gone")}.tmp`)); // an interrupted abort
  await mkdir(join(root, "ingest", `${ingestName("half")}.new`)); // an interrupted start
  await mkdir(join(root, "ingest", `${ingestName("held")}.tmp`)); // the held ingest's: left alone
  assert.deepEqual(await store.pruneIngests(0), [], "leftovers have no ref to report");
  assert.deepEqual((await readdir(join(root, "ingest"))).sort(), [ingestName("held"), `${ingestName("held")}.tmp`].sort());
  await held.abort();
});

test("keeps blobs in files: path() names the blob's file and refuses a digest that would escape", async () => {
  const { store, root } = await newStore();
  const digest = await ingest(store, "p", bytes(10));
  assert.equal(typeof store.path(digest), "string");
  assert.equal(await readFile(store.path(digest), "utf8"), bytes(10).toString());
  assert.ok(store.path(digest).startsWith(`${root}/`));
  assert.throws(() => store.path("sha256:../../../../etc/passwd" as Digest), { code: "InvalidArgument" });
});

test("writes refresh updatedat at most once a second of clock time", async () => {
  const { store, clock } = await newStore();
  const w = await store.writer({ ref: "ticking" });
  await w.write(bytes(1));
  clock.step(999);
  await w.write(bytes(1));
  assert.equal((await store.status("ticking")).updatedAt, SUITE_START);
  clock.step(1);
  await w.write(bytes(1));
  assert.equal((await store.status("ticking")).updatedAt, SUITE_START + 1_000);
  await w.abort();
});

test("shares ref locks between two stores on one root in one process", async () => {
  const { store, root, clock } = await newStore();
  const twin = new LocalContentStore(root, { clock });
  const w = await store.writer({ ref: "shared" });
  await assert.rejects(twin.writer({ ref: "shared" }), { code: "Unavailable", message: /^ref shared locked/ });
  await w.close();
  const w2 = await twin.writer({ ref: "shared" });
  await w2.abort();
});

test("starts over when the ingest on disk cannot be resumed", async () => {
  const { store, root } = await newStore();
  const w = await store.writer({ ref: "victim" });
  await w.write(bytes(100));
  await w.close();
  const dir = join(root, "ingest", ingestName("victim"));

  await writeFile(join(dir, "ref"), "someone-else"); // ref mismatch (a hash collision, or damage)
  const w2 = await store.writer({ ref: "victim" });
  assert.equal(w2.offset, 0);
  await w2.write(bytes(20));
  await w2.close();

  await rm(join(dir, "startedat")); // a damaged ingest
  const w3 = await store.writer({ ref: "victim" });
  assert.equal(w3.offset, 0);
  await w3.close();

  const w4 = await store.writer({ ref: "victim", expected: { digest: digestOf(bytes(5)), size: 5 } });
  await w4.write(bytes(3));
  await w4.close();
  const w5 = await store.writer({ ref: "victim", expected: { digest: digestOf(bytes(6)), size: 6 } });
  assert.equal(w5.offset, 0, "another announced size means other content");
  await w5.abort();
});

test("readBlob refuses blobs larger than maxSize", async () => {
  const { store } = await newStore();
  const digest = await ingest(store, "big", bytes(5000));
  await assert.rejects(readBlob(store, digest, { maxSize: 4999 }), { code: "ResourceExhausted" });
  assert.equal((await readBlob(store, digest, { maxSize: 5000 })).length, 5000);
});
