import assert from "node:assert/strict";
import { appendFile, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test, type TestContext } from "node:test";
import { FakeClock } from "../../../src/clock/index.js";
import { isNotFound } from "../../../src/errdefs/index.js";
import { readContainerLog, type ReadLogOptions } from "../../../src/runtime/index.js";

async function logFile(t: TestContext, lines: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "podyard-logs-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, "0.log");
  await writeFile(path, lines.join(""));
  return path;
}

function collector(): { out: PassThrough; text: () => string } {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  return { out, text: () => Buffer.concat(chunks).toString() };
}

async function read(path: string, opts: ReadLogOptions): Promise<string> {
  const c = collector();
  await readContainerLog(path, opts, c.out);
  return c.text();
}

const LINES = [
  "2026-12-03T10:00:00.000000001Z stdout F one\n",
  "2026-12-03T10:00:01Z stderr F two\n",
  "2026-12-03T10:00:02.5+00:00 stdout P thr\n",
  "2026-12-03T10:00:03Z stdout F ee\n",
  "not a cri line\n",
  "2026-12-03T10:00:04Z stdout F four\n",
];

test("all lines of both streams, partials joined, bad lines skipped", async (t) => {
  const path = await logFile(t, LINES);
  assert.equal(await read(path, {}), "one\ntwo\nthree\nfour\n");
});

test("timestamps prefix each line once, in the kubelet's format", async (t) => {
  const path = await logFile(t, LINES);
  assert.equal(await read(path, { timestamps: true }),
    "2026-12-03T10:00:00.000000001Z one\n2026-12-03T10:00:01.000000000Z two\n2026-12-03T10:00:02.500000000Z three\n2026-12-03T10:00:04.000000000Z four\n");
});

test("tailLines counts file lines from the end", async (t) => {
  const path = await logFile(t, LINES);
  assert.equal(await read(path, { tailLines: 1 }), "four\n");
  assert.equal(await read(path, { tailLines: 3 }), "ee\nfour\n");
  assert.equal(await read(path, { tailLines: 0 }), "");
  assert.equal(await read(path, { tailLines: 100 }), "one\ntwo\nthree\nfour\n");
  const many = await logFile(t, Array.from({ length: 500 }, (_, i) => `2026-12-03T10:00:00Z stdout F line ${i}\n`));
  assert.equal(await read(many, { tailLines: 2 }), "line 498\nline 499\n");
});

test("sinceTime, stream selection and limitBytes", async (t) => {
  const path = await logFile(t, LINES);
  assert.equal(await read(path, { sinceTime: Date.UTC(2026, 11, 3, 10, 0, 1) }), "two\nthree\nfour\n");
  assert.equal(await read(path, { stream: "Stdout" }), "one\nthree\nfour\n");
  assert.equal(await read(path, { stream: "Stderr" }), "two\n");
  assert.equal(await read(path, { limitBytes: 6 }), "one\ntw");
  assert.equal(await read(path, { limitBytes: 3, timestamps: true }), "202");
});

test("an unterminated last line is read; a symlinked path is followed; a missing file is NotFound", async (t) => {
  const path = await logFile(t, ["2026-12-03T10:00:00Z stdout F done\n", "2026-12-03T10:00:01Z stdout P no newline"]);
  assert.equal(await read(path, {}), "done\nno newline");
  const link = path + ".link";
  await symlink(path, link);
  // As the kubelet, tail counts newlines: the unterminated line is not one of them.
  assert.equal(await read(link, { tailLines: 1 }), "done\n");
  await assert.rejects(readContainerLog(join(path, "..", "nope.log"), {}, new PassThrough()), (e: Error) => isNotFound(e) && /failed to try resolving symlinks in path/.test(e.message));
});

function ticking(t: TestContext): FakeClock {
  const clock = new FakeClock(0);
  const timer = setInterval(() => clock.step(1000), 5);
  t.after(() => clearInterval(timer));
  return clock;
}

/** Waits for `cond`; gives up (failing the test, not hanging it) after 10 s. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the log output");
    await new Promise((r) => setTimeout(r, 5));
  }
}

test("follow writes new lines as they come and ends when the container has stopped and all is read", async (t) => {
  const path = await logFile(t, ["2026-12-03T10:00:00Z stdout F first\n"]);
  let running = true;
  const c = collector();
  const done = readContainerLog(path, { follow: true, tailLines: 1, clock: ticking(t), isRunning: async () => running }, c.out);
  await until(() => c.text() === "first\n");
  // A line arriving in two writes is held until complete.
  await appendFile(path, "2026-12-03T10:00:01Z stdout P sec");
  await appendFile(path, "\n2026-12-03T10:00:02Z stdout F ond\n");
  await until(() => c.text() === "first\nsecond\n");
  await appendFile(path, "2026-12-03T10:00:03Z stderr F last words\n");
  running = false;
  await done;
  assert.equal(c.text(), "first\nsecond\nlast words\n");
});

test("follow moves to the new file after rotation, after reading what the old one held", async (t) => {
  const path = await logFile(t, ["2026-12-03T10:00:00Z stdout F a\n"]);
  let running = true;
  const c = collector();
  const done = readContainerLog(path, { follow: true, clock: ticking(t), isRunning: async () => running }, c.out);
  await until(() => c.text() === "a\n");
  await appendFile(path, "2026-12-03T10:00:01Z stdout F b\n");
  await rename(path, path + ".20261203-100001");
  await writeFile(path, "2026-12-03T10:00:02Z stdout F c\n");
  await until(() => c.text() === "a\nb\nc\n");
  running = false;
  await done;
  assert.equal(c.text(), "a\nb\nc\n");
});

test("follow ends when aborted (the client went away)", async (t) => {
  const path = await logFile(t, ["2026-12-03T10:00:00Z stdout F a\n"]);
  const ac = new AbortController();
  const c = collector();
  const done = readContainerLog(path, { follow: true, clock: new FakeClock(0), signal: ac.signal, isRunning: async () => true }, c.out);
  await until(() => c.text() === "a\n");
  ac.abort();
  await done;
  assert.equal(c.text(), "a\n");
});
