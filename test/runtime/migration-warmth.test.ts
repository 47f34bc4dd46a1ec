// The runtime's migration warmth (src/runtime/migration-warmth.ts): while it is touched it moves the
// process into its own cgroup again and again; it ends by itself after the linger or at stop(); where
// the move is refused it turns itself off and containers start as before.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ownProcsFile } from "../../src/runtime/cgroups.js";
import { MigrationWarmth } from "../../src/runtime/migration-warmth.js";
import { until } from "../helpers/real-kubelet-stack.js";

test("touch() writes the pid again and again until the linger ends", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-warmth-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, "cgroup.procs");
  const written = (): Promise<true | undefined> => readFile(file, "utf8").then((s) => (s === "4242" ? true : undefined), () => undefined);
  // a linger longer than any test run: the writes go on however slow the machine is
  const w = new MigrationWarmth(file, 4242, { intervalMs: 1, lingerMs: 600_000 });
  t.after(() => w.stop());
  w.touch();
  assert.equal(w.active, true);
  await until("the pid written", written, 5_000);
  // written again: a file removed while active comes back
  await rm(file);
  await until("the pid written again", written, 5_000);
  w.stop();
  await until("stopped", async () => (w.active ? undefined : true), 5_000);

  // a short linger ends by itself, and then nothing more is written
  const short = new MigrationWarmth(file, 4242, { intervalMs: 1, lingerMs: 30 });
  short.touch();
  await until("the loop ended after the linger", async () => (short.active ? undefined : true), 5_000);
  await rm(file);
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(stat(file), "nothing is written once the linger ran out");
});

test("stop() ends the moves; a refused move turns the warmth off", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-warmth-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const w = new MigrationWarmth(join(dir, "procs"), 1, { intervalMs: 1, lingerMs: 60_000 });
  w.touch();
  w.stop();
  await until("stopped", async () => (w.active ? undefined : true), 5_000);

  const refused = new MigrationWarmth(join(dir, "missing", "cgroup.procs"), 1, { intervalMs: 1, lingerMs: 60_000 });
  refused.touch();
  await until("turned off", async () => (refused.active ? undefined : true), 5_000);
  refused.touch();
  assert.equal(refused.active, false, "once refused, touch() starts nothing");
});

test("podyard's own cgroup.procs takes its own pid (a move to where it already is)", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to write cgroup.procs");
    return;
  }
  const file = await ownProcsFile();
  const before = await readFile("/proc/self/cgroup", "utf8");
  const w = new MigrationWarmth(file, process.pid, { intervalMs: 1, lingerMs: 20 });
  w.touch();
  await until("a move made", async () => ((await readFile(file, "utf8")).split("\n").includes(String(process.pid)) ? true : undefined), 5_000);
  await until("done", async () => (w.active ? undefined : true), 5_000);
  assert.equal(await readFile("/proc/self/cgroup", "utf8"), before, "the process stays in the cgroups it was in");
  // still enabled: the write was accepted
  w.touch();
  assert.equal(w.active, true);
  w.stop();
});
