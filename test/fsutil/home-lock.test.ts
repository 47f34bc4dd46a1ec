import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FakeClock, realClock } from "../../src/clock/index.js";
import { acquireLock } from "../../src/fsutil/index.js";

const HOLDER = fileURLToPath(new URL("./lock-holder.ts", import.meta.url));
const children = new Set<ChildProcessWithoutNullStreams>();
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

interface Holder {
  child: ChildProcessWithoutNullStreams;
  /** everything it printed so far */
  out(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts lock-holder.ts on `path`; resolves once it holds the lock. */
function startHolder(path: string, mode: string, opts: { shared?: boolean } = {}): Holder {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, path, mode, ...(opts.shared ? ["--shared"] : [])], { stdio: ["pipe", "pipe", "pipe"] });
  children.add(child);
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("close", (code, signal) => {
    children.delete(child);
    resolve({ code, signal });
  }));
  return { child, out: () => out, exited };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 3000) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function holding(h: Holder): Promise<void> {
  await Promise.race([
    until("the holder took the lock", () => h.out().includes("locked\n")),
    h.exited.then((e) => { throw new Error(`the holder exited (${e.code ?? e.signal}) before taking the lock: ${h.out()}`); }),
  ]);
}

/** Resolves `p` while stepping `clock` by `stepMs` each time the waiter sleeps; returns how far it stepped. */
async function stepUntil<T>(clock: FakeClock, p: Promise<T>, stepMs: number, max = 10_000): Promise<{ value: T; steppedMs: number }> {
  let done = false;
  let value: T | undefined;
  const settled = p.then((v) => {
    done = true;
    value = v;
  });
  let steppedMs = 0;
  while (!done) {
    if (steppedMs > max) throw new Error(`still waiting after ${steppedMs} ms of clock time`);
    await Promise.race([settled, until("the waiter sleeps", () => clock.sleepers > 0 || done)]);
    if (done) break;
    clock.step(stepMs);
    steppedMs += stepMs;
    await new Promise((r) => setTimeout(r, 2));
  }
  await settled;
  return { value: value as T, steppedMs };
}

/** Runs `fn` with a new temporary directory and the path of a lock in it, removing the directory after. */
async function inLockDir(fn: (dir: string, path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-lock-"));
  try {
    await fn(dir, join(dir, "lock"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("a lock is shared inside a process, waited for across processes, and taken over from a dead owner", async () => inLockDir(async (dir, path) => {
  const a = await acquireLock(path, { clock: realClock });
  const b = await acquireLock(path, { clock: realClock });
  assert.equal(await readFile(path, "utf8"), String(process.pid));
  a();
  assert.ok(existsSync(path), "still held by the second holder");
  b();
  assert.equal(existsSync(path), false, "freed by the last release");

  // another process holds it: we wait until it lets go
  const child = startHolder(path, "stdin");
  await holding(child);
  const waited: (number | undefined)[] = [];
  let got = false;
  const pending = acquireLock(path, { clock: realClock, pollMs: 10, onWait: (pid) => waited.push(pid) }).then((release) => {
    got = true;
    return release;
  });
  await until("acquireLock reported waiting", () => waited.length > 0);
  assert.deepEqual(waited, [child.child.pid]);
  assert.equal(got, false, "not taken while the other process holds it");
  child.child.stdin.write("go\n");
  const c = await pending;
  assert.equal(await readFile(path, "utf8"), String(process.pid));
  c();
  await child.exited;

  // a lock file left by a process that died is taken over
  await writeFile(path, "999999999");
  const d0 = await acquireLock(path, { clock: realClock, pollMs: 20 });
  d0();
  // and so is an old lock file without a PID (a crash while writing an older lock)
  await writeFile(path, "");
  await utimes(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  const d = await acquireLock(path, { clock: realClock, pollMs: 20 });
  assert.equal(await readFile(path, "utf8"), String(process.pid));
  d();
}));

for (const signal of ["SIGKILL", "SIGTERM", "SIGINT"] as const) {
  test(`a holder ended by ${signal} frees the lock at once: the next caller does not wait`, async () => inLockDir(async (dir, path) => {
    const h = startHolder(path, "forever");
    await holding(h);
    h.child.kill(signal);
    assert.deepEqual(await h.exited, { code: null, signal });
    const clock = new FakeClock();
    const waited: (number | undefined)[] = [];
    const { value: release, steppedMs } = await stepUntil(clock, acquireLock(path, { clock, onWait: (pid) => waited.push(pid) }), 100);
    assert.equal(steppedMs, 0, "taken without a single poll");
    assert.deepEqual(waited, []);
    release();
  }));
}

test("a lock file naming a live, unrelated process (the test's parent) does not make anyone wait", async () => inLockDir(async (dir, path) => {
  await writeFile(path, String(process.ppid));
  const clock = new FakeClock();
  const waited: (number | undefined)[] = [];
  const { value: release, steppedMs } = await stepUntil(clock, acquireLock(path, { clock, onWait: (pid) => waited.push(pid) }), 100);
  assert.equal(steppedMs, 0);
  assert.deepEqual(waited, []);
  assert.equal(await readFile(path, "utf8"), String(process.pid));
  release();
}));

test("12 processes started at once on a lock file naming a dead PID hold it one at a time and leave no litter", async () => inLockDir(async (dir, path) => {
  await writeFile(path, "999999999");
  const holders = Array.from({ length: 12 }, () => startHolder(path, `turn:${dir}`));
  const ends = await Promise.all(holders.map((h) => h.exited));
  const outs = holders.map((h) => h.out());
  assert.deepEqual(ends, holders.map(() => ({ code: 0, signal: null })), outs.join("\n"));
  assert.deepEqual(outs.filter((o) => o.includes("overlap")), [], "no two held it at once");
  assert.deepEqual(outs.filter((o) => !o.includes("done")), []);
  assert.deepEqual((await readdir(dir)).sort(), ["lock.db"], "only the lock database stays");
}));

test("shared holders hold it side by side; an exclusive caller waits for them, told a holder's PID after noticeAfterMs", async () => inLockDir(async (dir, path) => {
  const reader = startHolder(path, "stdin", { shared: true });
  await holding(reader);
  const clock = new FakeClock();
  // a second reader: at once
  const { value: readRelease, steppedMs } = await stepUntil(clock, acquireLock(path, { clock, shared: true }), 100);
  assert.equal(steppedMs, 0);
  readRelease();

  // a writer waits, and is told who it waits for once it has waited 1 s
  const waited: (number | undefined)[] = [];
  let got = false;
  const writer = acquireLock(path, { clock, pollMs: 100, noticeAfterMs: 1_000, onWait: (pid) => waited.push(pid) }).then((r) => {
    got = true;
    return r;
  });
  for (let ms = 0; ms < 900; ms += 100) {
    await until("the writer polls", () => clock.sleepers > 0);
    clock.step(100);
  }
  await until("the writer polls", () => clock.sleepers > 0);
  assert.deepEqual(waited, [], "not told before 1 s");
  clock.step(100);
  await until("the writer is told", () => waited.length > 0);
  assert.deepEqual(waited, [reader.child.pid]);
  assert.equal(got, false);

  reader.child.stdin.write("go\n");
  await reader.exited;
  const { value: writeRelease } = await stepUntil(clock, writer, 100);
  assert.deepEqual(waited, [reader.child.pid], "told once");

  // while it is held exclusively, a reader in another process waits
  const blocked = startHolder(path, "stdin", { shared: true });
  await until("the reader waits", () => blocked.out().includes("waiting\n"));
  assert.equal(blocked.out(), "waiting\n", "a reader does not get in while a writer holds it");
  writeRelease();
  await holding(blocked);
  blocked.child.stdin.write("go\n");
  await blocked.exited;
}));

test("inside one process, a lock held shared cannot also be taken exclusively", async () => inLockDir(async (dir, path) => {
  const r = await acquireLock(path, { clock: realClock, shared: true });
  await assert.rejects(acquireLock(path, { clock: realClock }), /lock .*lock: this process holds it shared/);
  r();
  const w = await acquireLock(path, { clock: realClock });
  const again = await acquireLock(path, { clock: realClock, shared: true });
  again();
  w();
}));

test("taking the lock clears the empty lock.<pid>.<hex> files earlier versions left", async () => inLockDir(async (dir, path) => {
  await writeFile(join(dir, "lock.1234.0a1b2c3d"), "");
  await writeFile(join(dir, "lock.99.ffffffff"), "");
  await writeFile(join(dir, "lockers"), "kept");
  const release = await acquireLock(path, { clock: realClock });
  release();
  assert.deepEqual((await readdir(dir)).sort(), ["lock.db", "lockers"]);
}));
