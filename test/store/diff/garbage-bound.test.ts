import { test } from "node:test";
import assert from "node:assert/strict";
import { setImmediate as tick } from "node:timers/promises";
import { getHeapStatistics } from "node:v8";
import { boundGarbage } from "../../../src/store/diff/garbage-bound.js";

async function* pieces(n: number, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.alloc(size, i);
}

test("boundGarbage passes every chunk through, in order, and asks for a collection only above the limit", async () => {
  let asked = 0;
  const seen: number[] = [];
  // a limit far above what this process holds: never asked
  for await (const c of boundGarbage(pieces(20, 1 << 20), { limitBytes: 2 ** 40, everyBytes: 4 << 20, collect: () => asked++ })) seen.push(c[0] as number);
  assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(asked, 0);

  // a limit of nothing: asked once per `everyBytes` of data
  for await (const c of boundGarbage(pieces(20, 1 << 20), { limitBytes: 0, everyBytes: 4 << 20, collect: () => asked++ })) assert.equal(c.length, 1 << 20);
  assert.equal(asked, 5);
});

test("boundGarbage keeps external memory near its limit while 256 MiB of fresh buffers stream through", async () => {
  // one buffer per turn of the event loop, as inflating hands them out; left alone, V8
  // lets 35-40 MiB of them pile up here before it collects
  async function* turns(): AsyncGenerator<Buffer> {
    for await (const c of pieces(256, 1 << 20)) {
      await tick();
      yield c;
    }
  }
  let peak = 0;
  for await (const c of boundGarbage(turns(), { limitBytes: 8 << 20, everyBytes: 2 << 20 })) {
    assert.equal(c.length, 1 << 20);
    peak = Math.max(peak, getHeapStatistics().external_memory);
  }
  assert.ok(peak < 24 << 20, `external memory peaked at ${(peak / 2 ** 20).toFixed(0)} MiB`);
});
