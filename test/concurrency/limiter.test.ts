import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { Limiter, SingleFlight } from "../../src/concurrency/index.js";

/** Node 20 has no Promise.withResolvers. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test("Limiter runs at most n tasks at once, the rest in the order they came, and frees a slot when a task fails", async () => {
  const limiter = new Limiter(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  const gates = Array.from({ length: 5 }, () => deferred());
  const runs = gates.map((g, i) => limiter.run(async () => {
    started.push(i);
    most = Math.max(most, ++running);
    try {
      await g.promise;
      if (i === 1) throw new Error("task 1 failed");
      return i;
    } finally {
      running--;
    }
  }));
  await tick();
  assert.deepEqual(started, [0, 1]);
  gates[1]?.resolve();
  await assert.rejects(runs[1] as Promise<number>, /task 1 failed/);
  await tick();
  assert.deepEqual(started, [0, 1, 2]);
  for (const g of gates) g.resolve();
  assert.deepEqual(await Promise.all([runs[0], runs[2], runs[3], runs[4]]), [0, 2, 3, 4]);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
  assert.equal(most, 2);
  assert.throws(() => new Limiter(0), RangeError);
});

test("SingleFlight shares one run among callers of the same key, and starts afresh once it settled", async () => {
  const flights = new SingleFlight<number>();
  let calls = 0;
  const gate = deferred();
  const task = async (): Promise<number> => {
    calls++;
    await gate.promise;
    return calls;
  };
  const a = flights.do("k", task);
  const b = flights.do("k", task);
  const other = flights.do("other", () => Promise.resolve(-1));
  gate.resolve();
  assert.deepEqual(await Promise.all([a, b, other]), [1, 1, -1]);
  assert.equal(await flights.do("k", task), 2);
});
