import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferPool } from "../../src/fsutil/index.js";

test("BufferPool: a lent buffer given back is taken again; anything else given back is ignored", () => {
  const pool = new BufferPool(64, 2);
  const a = pool.take();
  assert.equal(a.length, 64);
  pool.lend(a);
  pool.recycle(a.subarray(3, 10)); // any view of the lent buffer gives it back
  const again = pool.take();
  assert.equal(again.buffer, a.buffer);
  assert.equal(again.length, 64);

  pool.recycle(again); // taken but not lent: ignored, so a buffer in use is never handed out twice
  assert.notEqual(pool.take().buffer, a.buffer);
  pool.recycle(Buffer.alloc(64)); // never from the pool: ignored
  pool.lend(again);
  pool.recycle(again);
  pool.recycle(again); // twice: only once back in the pool
  assert.equal(pool.take().buffer, a.buffer);
  assert.notEqual(pool.take().buffer, a.buffer);
});

test("BufferPool: keeps at most maxIdle buffers for reuse", () => {
  const pool = new BufferPool(16, 2);
  const lent = [pool.take(), pool.take(), pool.take()];
  for (const b of lent) pool.lend(b);
  for (const b of lent) pool.recycle(b);
  const reused = new Set([pool.take().buffer, pool.take().buffer]);
  assert.equal(reused.size, 2);
  for (const b of reused) assert.ok(lent.some((l) => l.buffer === b));
  assert.ok(!lent.some((l) => l.buffer === pool.take().buffer), "the third was left to the garbage collector");
});
