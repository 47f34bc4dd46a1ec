import { test } from "node:test";
import assert from "node:assert/strict";
import { rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import { keepSpaceReserve } from "../../src/fsutil/index.js";
import { fillDisk, withTmpfs } from "../helpers/tmpfs.js";

async function sizeOf(path: string): Promise<number | undefined> {
  return stat(path).then((s) => s.size, () => undefined);
}

test("the space reserve is made where there is room and gives its room back on a full disk (real 1 MiB tmpfs)", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to mount a tmpfs");
    return;
  }
  await withTmpfs("1m", async (mnt) => {
    const reserve = join(mnt, "reserve");
    assert.equal(await keepSpaceReserve(reserve, { bytes: 128 * 1024 }), false);
    assert.equal(await sizeOf(reserve), undefined, "readers make no reserve");
    assert.equal(await keepSpaceReserve(reserve, { bytes: 128 * 1024, refill: true }), false);
    assert.equal(await sizeOf(reserve), 128 * 1024);

    await fillDisk(join(mnt, "filler"));
    assert.equal(await keepSpaceReserve(reserve, { bytes: 128 * 1024 }), true, "given back");
    assert.equal(await sizeOf(reserve), undefined);
    const s = await statfs(mnt);
    assert.ok(s.bavail * s.bsize >= 128 * 1024, "its room is free");
    assert.equal(await keepSpaceReserve(reserve, { bytes: 128 * 1024, refill: true }), false);
    assert.equal(await sizeOf(reserve), undefined, "not made again on a nearly full disk");

    await rm(join(mnt, "filler"));
    await keepSpaceReserve(reserve, { bytes: 128 * 1024, refill: true });
    assert.equal(await sizeOf(reserve), 128 * 1024, "made again once there is room");
  });
});
