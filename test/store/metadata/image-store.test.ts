import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { FakeClock } from "../../../src/clock/index.js";
import { digestOf, MediaType, type Descriptor, type Digest } from "../../../src/oci/index.js";
import {
  ImageStore, migrate, openDatabase, schemaVersion, STORE_MIGRATIONS, type Database, type ImageRecordInput,
} from "../../../src/store/index.js";

const START = Date.UTC(2025, 0, 1);
const dirs: string[] = [];
const open: Database[] = [];
after(async () => {
  for (const db of open) if (db.open) db.close();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function dbPath(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "podyard-metadata-"));
  dirs.push(d);
  return join(d, "state", "podyard.db");
}

function connect(path: string, clock: FakeClock): { db: Database; images: ImageStore } {
  const db = openDatabase(path, { clock });
  open.push(db);
  return { db, images: new ImageStore(db, { clock }) };
}

const index: Descriptor = { mediaType: MediaType.ociIndex, digest: digestOf("index"), size: 500 };
const busyboxConfig = digestOf("busybox config");
const busyboxManifest = digestOf("busybox manifest");

function busybox(name: string, over: Partial<ImageRecordInput> = {}): ImageRecordInput {
  return {
    name, target: index, configDigest: busyboxConfig, manifestDigest: busyboxManifest, size: 2_200_000,
    created: "2024-09-26T21:31:42Z", labels: { "io.cri-containerd.image": "managed" }, ...over,
  };
}

test("opens a WAL database with foreign keys and the store's migrations", async () => {
  const path = await dbPath();
  const clock = new FakeClock(START);
  const { db } = connect(path, clock);
  assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
  assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
  assert.equal(db.pragma("busy_timeout", { simple: true }), 5000);
  assert.equal(schemaVersion(db, "store"), STORE_MIGRATIONS.migrations.length);
  assert.deepEqual(db.prepare("SELECT component, version, name, applied_at FROM schema_version").all(), STORE_MIGRATIONS.migrations.map((m) => (
    { component: "store", version: m.version, name: m.name, applied_at: START }
  )));
  assert.equal(STORE_MIGRATIONS.migrations[0]?.name, "images");
  db.close();
  const again = connect(path, clock).db;
  assert.equal(schemaVersion(again, "store"), STORE_MIGRATIONS.migrations.length, "reopening applies nothing twice");
  assert.equal((again.prepare("SELECT COUNT(*) AS n FROM schema_version").get() as { n: number }).n, STORE_MIGRATIONS.migrations.length);
});

test("runs further components' migrations in order, each step atomic", async () => {
  const { db } = connect(await dbPath(), new FakeClock(START));
  const steps = [
    { version: 1, name: "pods", up: (d: Database) => d.exec("CREATE TABLE pods (uid TEXT PRIMARY KEY) STRICT") },
    { version: 2, name: "events", up: (d: Database) => d.exec("CREATE TABLE events (id INTEGER PRIMARY KEY) STRICT") },
  ];
  assert.equal(migrate(db, { component: "kubelet", migrations: steps }), 2);
  const broken = [...steps, {
    version: 3, name: "half", up: (d: Database) => {
      d.exec("CREATE TABLE half (x INTEGER) STRICT");
      d.exec("THIS IS NOT SQL");
    },
  }];
  assert.throws(() => migrate(db, { component: "kubelet", migrations: broken }), { code: "FailedPrecondition", message: /migration kubelet 3 \(half\) failed/ });
  assert.equal(schemaVersion(db, "kubelet"), 2);
  assert.equal(db.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get(), undefined, "the failed step left nothing");
  assert.throws(() => migrate(db, { component: "kubelet", migrations: steps.slice(0, 1) }), { code: "FailedPrecondition", message: /newer than the 1 this podyard knows/ });
  assert.throws(() => migrate(db, { component: "x", migrations: [{ version: 2, name: "gap", up: () => undefined }] }), { code: "InvalidArgument" });
});

test("puts, gets, lists, touches and deletes image records", async () => {
  const clock = new FakeClock(START);
  const { images } = connect(await dbPath(), clock);
  assert.equal(images.get("docker.io/library/busybox:latest"), undefined);

  const stored = images.put(busybox("docker.io/library/busybox:latest"));
  assert.deepEqual(stored, {
    ...busybox("docker.io/library/busybox:latest"), createdAt: START, updatedAt: START,
  });
  assert.deepEqual(images.get("docker.io/library/busybox:latest"), stored);

  clock.step(1_000);
  images.touch("docker.io/library/busybox:latest");
  assert.equal(images.get("docker.io/library/busybox:latest")?.lastUsed, START + 1_000);
  images.touch("docker.io/library/busybox:latest", START + 500);
  assert.equal(images.get("docker.io/library/busybox:latest")?.lastUsed, START + 500);

  clock.step(1_000);
  const newer = digestOf("busybox config 2");
  const replaced = images.put(busybox("docker.io/library/busybox:latest", { configDigest: newer, labels: { pinned: "true" }, created: undefined }));
  assert.equal(replaced.createdAt, START, "createdAt survives an update");
  assert.equal(replaced.updatedAt, START + 2_000);
  assert.equal(replaced.lastUsed, START + 500, "lastUsed survives an update");
  assert.equal(replaced.configDigest, newer);
  assert.deepEqual(replaced.labels, { pinned: "true" }, "labels are replaced, not merged");
  assert.equal("created" in replaced, false);

  images.put(busybox("docker.io/library/alpine:3.20", { configDigest: digestOf("alpine"), labels: {} }));
  images.put(busybox(`docker.io/library/busybox@${index.digest}`, { configDigest: newer }));
  assert.deepEqual(images.list().map((r) => r.name), [
    "docker.io/library/alpine:3.20", "docker.io/library/busybox:latest", `docker.io/library/busybox@${index.digest}`,
  ]);
  assert.deepEqual(images.list({ filter: { repository: "docker.io/library/busybox" } }).length, 2);
  assert.deepEqual(images.list({ filter: { labels: { pinned: "true" } } }).map((r) => r.name), ["docker.io/library/busybox:latest"]);
  assert.deepEqual(images.list({ filter: { name: "docker.io/library/alpine:3.20" } }).map((r) => r.configDigest), [digestOf("alpine")]);
  assert.deepEqual(images.list({ filter: { configDigest: newer, labels: { "io.cri-containerd.image": "managed" } } }).map((r) => r.name), [
    `docker.io/library/busybox@${index.digest}`,
  ]);

  images.delete("docker.io/library/alpine:3.20");
  assert.equal(images.get("docker.io/library/alpine:3.20"), undefined);
  assert.throws(() => images.delete("docker.io/library/alpine:3.20"), { code: "NotFound", message: 'image "docker.io/library/alpine:3.20": not found' });
  assert.throws(() => images.touch("docker.io/library/alpine:3.20"), { code: "NotFound" });
});

test("names all the names of one image and its repo digests", async () => {
  const { images } = connect(await dbPath(), new FakeClock(START));
  const manifest: Descriptor = { mediaType: MediaType.ociManifest, digest: digestOf("mirror manifest"), size: 400 };
  images.put(busybox("docker.io/library/busybox:latest"));
  images.put(busybox("docker.io/library/busybox:1.37"));
  images.put(busybox(`docker.io/library/busybox@${index.digest}`));
  images.put(busybox("registry.local:5000/mirror/busybox:1.37", { target: manifest }));
  images.put(busybox("docker.io/library/alpine:latest", { configDigest: digestOf("alpine") }));

  assert.deepEqual(images.byConfigDigest(busyboxConfig).map((r) => r.name), [
    "docker.io/library/busybox:1.37", "docker.io/library/busybox:latest", `docker.io/library/busybox@${index.digest}`,
    "registry.local:5000/mirror/busybox:1.37",
  ]);
  assert.deepEqual(images.repoDigests(busyboxConfig), [
    `docker.io/library/busybox@${index.digest}`, `registry.local:5000/mirror/busybox@${manifest.digest}`,
  ]);
  assert.deepEqual(images.repoDigests(digestOf("unknown")), []);
  assert.deepEqual(images.byConfigDigest(digestOf("unknown")), []);
  assert.throws(() => images.repoDigests("sha256:nope" as Digest), { code: "InvalidArgument" });
});

test("keeps records across a reopen", async () => {
  const path = await dbPath();
  const clock = new FakeClock(START);
  const first = connect(path, clock);
  const stored = first.images.put(busybox("docker.io/library/busybox:latest"));
  first.images.touch(stored.name, START + 7);
  first.db.close();
  const second = connect(path, clock);
  assert.deepEqual(second.images.get(stored.name), { ...stored, lastUsed: START + 7 });
});

test("a process SIGKILLed inside a transaction leaves the state before it", async () => {
  const path = await dbPath();
  const clock = new FakeClock(START);
  const { db, images } = connect(path, clock);
  images.put(busybox("docker.io/library/busybox:latest"));
  db.close();

  const entry = pathToFileURL(resolve(dirname(fileURLToPath(import.meta.url)), "../../../src/store/index.ts")).href;
  const script = `
    const [entry, path, config, manifest, target] = process.argv.slice(1);
    const { ImageStore, openDatabase } = await import(entry);
    const db = openDatabase(path);
    const images = new ImageStore(db);
    db.transaction(() => {
      images.put({ name: "docker.io/library/alpine:latest", target: JSON.parse(target), configDigest: config, manifestDigest: manifest, size: 1 });
      images.delete("docker.io/library/busybox:latest");
      for (let i = 0; i < 2000; i++) {
        images.put({ name: "docker.io/library/filler:" + i, target: JSON.parse(target), configDigest: config, manifestDigest: manifest, size: i });
      }
      process.kill(process.pid, "SIGKILL");
      for (;;);
    })();
  `;
  const child = spawn(process.execPath, [
    "--import", "tsx", "--input-type=module", "-e", script, entry, path, busyboxConfig, busyboxManifest, JSON.stringify(index),
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((res, rej) => {
    child.once("error", rej);
    child.once("close", (c, s) => res([c, s]));
  });
  assert.equal(signal, "SIGKILL", `child exited with code ${code}: ${stderr}`);

  const after = connect(path, clock).images;
  assert.deepEqual(after.list().map((r) => r.name), ["docker.io/library/busybox:latest"]);
  assert.deepEqual(after.get("docker.io/library/busybox:latest")?.labels, { "io.cri-containerd.image": "managed" });
});

test("two connections see each other's commits, and readers are not blocked by a writer (WAL)", async () => {
  const path = await dbPath();
  const clock = new FakeClock(START);
  const a = connect(path, clock);
  const b = connect(path, clock);
  a.images.put(busybox("docker.io/library/busybox:latest"));
  assert.equal(b.images.get("docker.io/library/busybox:latest")?.size, 2_200_000);
  b.images.delete("docker.io/library/busybox:latest");
  assert.equal(a.images.get("docker.io/library/busybox:latest"), undefined);

  a.db.exec("BEGIN IMMEDIATE");
  a.images.put(busybox("docker.io/library/alpine:latest"));
  assert.deepEqual(b.images.list(), [], "b reads the last committed state while a writes");
  a.db.exec("COMMIT");
  assert.deepEqual(b.images.list().map((r) => r.name), ["docker.io/library/alpine:latest"]);
});

test("rejects bad records with InvalidArgument naming the field, and stores nothing", async () => {
  const { images } = connect(await dbPath(), new FakeClock(START));
  const name = "docker.io/library/busybox:latest";
  const cases: [ImageRecordInput, RegExp][] = [
    [busybox(name, { configDigest: "sha256:abc" as Digest }), /^image record "docker\.io\/library\/busybox:latest": configDigest: invalid digest "sha256:abc"$/],
    [busybox(name, { manifestDigest: "md5:0" as Digest }), /: manifestDigest: invalid digest "md5:0"$/],
    [busybox(name, { target: { ...index, digest: "sha256:zz" as Digest } }), /: target\.digest: invalid digest "sha256:zz"$/],
    [busybox(name, { target: { ...index, mediaType: "" } }), /: target\.mediaType: must be a non-empty string$/],
    [busybox(name, { size: -1 }), /: size: -1 must be a non-negative integer$/],
    [busybox(name, { size: 1.5 }), /: size: 1\.5 must be a non-negative integer$/],
    [busybox(name, { labels: { k: "v".repeat(5000) } }), /: labels: label key and value length \(5001 bytes\)/],
    [busybox("busybox"), /^image record: name: "busybox" is not normalised; use "docker\.io\/library\/busybox:latest"$/],
    [busybox("docker.io/library/busybox"), /is not normalised; use "docker\.io\/library\/busybox:latest"$/],
    [busybox("Docker.io/UPPER:1"), /^image record: name: "Docker\.io\/UPPER:1": /],
    [busybox(""), /^image record: name: must be a non-empty string$/],
  ];
  for (const [record, message] of cases) {
    assert.throws(() => images.put(record), { code: "InvalidArgument", message }, message.source);
  }
  assert.deepEqual(images.list(), []);
  assert.throws(() => images.list({ filter: { configDigest: "nope" as Digest } }), { code: "InvalidArgument" });
  assert.throws(() => images.touch(name, Number.NaN), { code: "InvalidArgument" });
});

test("refuses a database that was not migrated", async () => {
  const { default: BetterSqlite3 } = await import("better-sqlite3");
  const raw = new BetterSqlite3(":memory:");
  open.push(raw);
  assert.throws(() => new ImageStore(raw), { code: "FailedPrecondition", message: /open it with openDatabase/ });
});
