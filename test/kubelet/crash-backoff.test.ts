import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../../src/clock/index.js";
import { newCrashLoopBackOff } from "../../src/kubelet/crash-backoff.js";

test("crash-loop back-off: first restart at once, then 10, 20, 40, 80, 160, 300, 300 s", () => {
  const clock = new FakeClock(1_000_000);
  const b = newCrashLoopBackOff(clock);
  const key = "web_default_uid_app_abc";
  const waits: number[] = [];
  // each crash comes 1 s after the restart; find how long until it may restart again
  let finishedAt = clock.now();
  for (let i = 0; i < 8; i++) {
    let waited = 0;
    while (b.isInBackOffSince(key, finishedAt)) {
      clock.step(1000);
      waited += 1000;
    }
    waits.push(waited);
    b.next(key, finishedAt);
    clock.step(1000);
    finishedAt = clock.now();
  }
  assert.deepEqual(waits.map((w) => w / 1000), [0, 10, 20, 40, 80, 160, 300, 300]);
});

test("a crash more than 600 s after the last restart starts the ladder again", () => {
  const clock = new FakeClock(0);
  const b = newCrashLoopBackOff(clock);
  const key = "k";
  b.next(key, 0);
  b.next(key, 0);
  b.next(key, 0);
  assert.equal(b.get(key), 40_000);
  clock.step(601_000);
  const finishedAt = clock.now();
  assert.equal(b.isInBackOffSince(key, finishedAt), false, "expired: restart at once");
  b.next(key, finishedAt);
  assert.equal(b.get(key), 10_000);
});
