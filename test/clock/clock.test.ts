import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/clock/index.js";

test("a FakeClock wakes sleepers exactly when stepped past their time", async () => {
  const clock = new FakeClock(1000);
  const woke: number[] = [];
  void clock.sleep(10_000).then(() => woke.push(clock.now()));
  void clock.sleep(20_000).then(() => woke.push(clock.now()));
  clock.step(9_999);
  await Promise.resolve();
  assert.deepEqual(woke, []);
  clock.step(1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(woke, [11_000]);
  clock.step(10_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(woke, [11_000, 21_000]);
});

test("an aborted sleep rejects and never wakes", async () => {
  const clock = new FakeClock();
  const ac = new AbortController();
  const p = clock.sleep(5_000, ac.signal);
  ac.abort(new Error("stopped"));
  await assert.rejects(p, /stopped/);
});

test("sleepers counts the sleeps waiting on a FakeClock", async () => {
  const clock = new FakeClock();
  assert.equal(clock.sleepers, 0);
  const p = clock.sleep(10);
  assert.equal(clock.sleepers, 1);
  clock.step(10);
  await p;
  assert.equal(clock.sleepers, 0);
});
