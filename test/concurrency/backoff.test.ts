/** Back-off as the kubelet sees it: 10 s doubling to 300 s, forgotten after 600 s of quiet. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FakeClock } from "../../src/clock/index.js";
import { Backoff } from "../../src/concurrency/index.js";

const S = 1000;

test("each failure doubles the delay from 10 s up to 300 s, and the item is backed off for exactly that long", () => {
  const clock = new FakeClock(1_000_000);
  const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S, clock });
  assert.equal(b.get("pod_nginx"), 0);
  assert.equal(b.isInBackOffSinceUpdate("pod_nginx", clock.now()), false);
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) {
    b.next("pod_nginx", clock.now());
    const delay = b.get("pod_nginx");
    seen.push(delay / S);
    clock.step(delay - 1);
    assert.equal(b.isInBackOffSinceUpdate("pod_nginx", clock.now()), true, `still backed off 1 ms before ${delay} ms`);
    clock.step(1);
    assert.equal(b.isInBackOffSinceUpdate("pod_nginx", clock.now()), false, `free at ${delay} ms`);
  }
  assert.deepEqual(seen, [10, 20, 40, 80, 160, 300, 300, 300]);
});

test("after more than 600 s without a failure the delay starts again at 10 s; at exactly 600 s it keeps doubling", () => {
  const clock = new FakeClock(0);
  const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S, clock });
  b.next("k", clock.now());
  b.next("k", clock.now());
  assert.equal(b.get("k"), 20 * S);
  clock.step(600 * S);
  b.next("k", clock.now());
  assert.equal(b.get("k"), 40 * S, "600 s is not more than 600 s");
  clock.step(600 * S + 1);
  assert.equal(b.isInBackOffSinceUpdate("k", clock.now()), false);
  b.next("k", clock.now());
  assert.equal(b.get("k"), 10 * S);
});

test("isInBackOffSince measures from the event to now; items are independent", () => {
  const clock = new FakeClock(0);
  const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S, clock });
  b.next("a", 0);
  clock.step(5 * S);
  assert.equal(b.isInBackOffSince("a", 0), true);
  assert.equal(b.isInBackOffSince("b", 0), false);
  clock.step(5 * S);
  assert.equal(b.isInBackOffSince("a", 0), false);
  assert.equal(b.isInBackOffSince("a", 1), true);
});

test("gc drops only entries quiet for more than 600 s; deleteEntry and reset forget one item", () => {
  const clock = new FakeClock(0);
  const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S, clock });
  b.next("old", 0);
  clock.step(300 * S);
  b.next("new", clock.now());
  clock.step(300 * S + 1);
  b.gc();
  assert.equal(b.get("old"), 0);
  assert.equal(b.get("new"), 10 * S);
  b.deleteEntry("new");
  assert.equal(b.size, 0);
  b.next("x", clock.now());
  b.reset("x");
  assert.equal(b.get("x"), 0);
});

test("a custom expiry decides when an item starts over", () => {
  const clock = new FakeClock(0);
  const b = new Backoff({ initialMs: 10 * S, maxMs: 300 * S, clock, hasExpired: (t, last) => t - last > 30 * S });
  b.next("k", 0);
  b.next("k", 0);
  clock.step(31 * S);
  assert.equal(b.isInBackOffSinceUpdate("k", clock.now()), false);
  b.next("k", clock.now());
  assert.equal(b.get("k"), 10 * S);
  assert.throws(() => new Backoff({ initialMs: 0, maxMs: 1, clock }), /initialMs 0/);
});
