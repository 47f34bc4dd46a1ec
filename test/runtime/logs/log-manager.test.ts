import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test, type TestContext } from "node:test";
import { gunzipSync } from "node:zlib";
import { FakeClock } from "../../../src/clock/index.js";
import { isInvalidArgument } from "../../../src/errdefs/index.js";
import { ContainerLogManager, type ContainerLogManagerOptions } from "../../../src/runtime/index.js";

type Runtime = ContainerLogManagerOptions["runtime"];

async function dir(t: TestContext): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "podyard-rot-"));
  t.after(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** A runtime with one container per log path; reopen creates the file afresh, as conmon does. */
function fakeRuntime(containers: { id: string; logPath: string; running?: boolean }[], opts: { failReopen?: boolean } = {}): Runtime & { reopened: string[] } {
  const reopened: string[] = [];
  return {
    reopened,
    listContainers: async () => containers.map((c) => ({
      id: c.id, podSandboxId: "s", metadata: { name: c.id }, image: { image: "i" }, imageRef: "i",
      state: c.running === false ? "CONTAINER_EXITED" as const : "CONTAINER_RUNNING" as const, createdAt: 0n, labels: {}, annotations: {},
    })),
    containerStatus: async (id) => ({ status: { logPath: containers.find((c) => c.id === id)?.logPath ?? "" } as never, info: {} }),
    reopenContainerLog: async (id) => {
      if (opts.failReopen) throw new Error("ctl fifo gone");
      reopened.push(id);
      await writeFile(containers.find((c) => c.id === id)?.logPath ?? "", "", { flag: "a" });
    },
  };
}

const T0 = Date.UTC(2026, 11, 3, 14, 5, 9);

test("a log at maxSize is renamed to <log>.<YYYYMMDD-HHMMSS> and reopened; smaller and stopped ones are left", async (t) => {
  const d = await dir(t);
  const big = join(d, "0.log");
  const small = join(d, "small.log");
  const stopped = join(d, "stopped.log");
  await writeFile(big, "x".repeat(100));
  await writeFile(small, "x".repeat(99));
  await writeFile(stopped, "x".repeat(500));
  const rt = fakeRuntime([{ id: "a", logPath: big }, { id: "b", logPath: small }, { id: "c", logPath: stopped, running: false }]);
  const m = new ContainerLogManager({ runtime: rt, clock: new FakeClock(T0), maxSize: 100, maxFiles: 3 });
  await m.rotateOnce();
  assert.deepEqual(rt.reopened, ["a"]);
  assert.deepEqual((await readdir(d)).sort(), ["0.log", "0.log.20261203-140509", "small.log", "stopped.log"]);
  assert.equal(await readFile(big, "utf8"), "");
});

test("older rotated files are gzipped and at most maxFiles-2 kept, oldest removed first", async (t) => {
  const d = await dir(t);
  const log = join(d, "0.log");
  const clock = new FakeClock(T0);
  const rt = fakeRuntime([{ id: "a", logPath: log }]);
  const m = new ContainerLogManager({ runtime: rt, clock, maxSize: 10, maxFiles: 4 });
  for (let i = 0; i < 4; i++) {
    await writeFile(log, `round ${i} `.repeat(3));
    await m.rotateOnce();
    clock.step(60_000);
  }
  assert.deepEqual((await readdir(d)).sort(), ["0.log", "0.log.20261203-140609.gz", "0.log.20261203-140709.gz", "0.log.20261203-140809"]);
  assert.equal(gunzipSync(await readFile(join(d, "0.log.20261203-140709.gz"))).toString(), "round 2 ".repeat(3));
  assert.equal(await readFile(join(d, "0.log.20261203-140809"), "utf8"), "round 3 ".repeat(3));
  await m.clean(log);
  assert.deepEqual(await readdir(d), ["0.log"]);
});

test("leftover .tmp files and originals already compressed are removed", async (t) => {
  const d = await dir(t);
  const log = join(d, "0.log");
  await writeFile(log, "x".repeat(20));
  await writeFile(`${log}.20261203-100000`, "dup");
  await writeFile(`${log}.20261203-100000.gz`, "gz");
  await writeFile(`${log}.20261203-110000.tmp`, "tmp");
  const m = new ContainerLogManager({ runtime: fakeRuntime([{ id: "a", logPath: log }]), clock: new FakeClock(T0), maxSize: 10 });
  await m.rotateOnce();
  assert.deepEqual((await readdir(d)).sort(), ["0.log", "0.log.20261203-100000.gz", "0.log.20261203-140509"]);
});

test("a failed reopen renames the log back and reports the container", async (t) => {
  const d = await dir(t);
  const log = join(d, "0.log");
  await writeFile(log, "x".repeat(20));
  const errors: string[] = [];
  const m = new ContainerLogManager({ runtime: fakeRuntime([{ id: "a", logPath: log }], { failReopen: true }), clock: new FakeClock(T0), maxSize: 10, onError: (id, e) => errors.push(`${id}: ${e.message}`) });
  await m.rotateOnce();
  assert.deepEqual(await readdir(d), ["0.log"]);
  assert.equal(await readFile(log, "utf8"), "x".repeat(20));
  assert.deepEqual(errors, ['a: failed to reopen container log "a": ctl fifo gone']);
});

test("a missing log is reopened; start() rotates every monitor interval of the clock", async (t) => {
  const d = await dir(t);
  const log = join(d, "0.log");
  const rt = fakeRuntime([{ id: "a", logPath: log }]);
  const clock = new FakeClock(T0);
  const m = new ContainerLogManager({ runtime: rt, clock, maxSize: 10, monitorIntervalMs: 10_000 });
  await m.rotateOnce();
  assert.deepEqual(rt.reopened, ["a"]);
  m.start();
  t.after(() => m.stop());
  await writeFile(log, "x".repeat(20));
  while (clock.sleepers === 0) await new Promise((r) => setTimeout(r, 1));
  clock.step(9_999);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(rt.reopened, ["a"]);
  clock.step(1);
  while (rt.reopened.length < 2) await new Promise((r) => setTimeout(r, 1));
  assert.ok((await readdir(d)).includes("0.log.20261203-140519"));
  await m.stop();
});

test("maxFiles must be above 1", () => {
  assert.throws(() => new ContainerLogManager({ runtime: fakeRuntime([]), clock: new FakeClock(), maxFiles: 1 }), (e: Error) => isInvalidArgument(e) && e.message === "invalid MaxFiles 1, must be > 1");
});
