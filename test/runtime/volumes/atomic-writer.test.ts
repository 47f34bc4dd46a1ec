import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FakeClock } from "../../../src/clock/index.js";
import { payloadPathError, writeAtomic } from "../../../src/runtime/index.js";

test("payload paths: relative, no '..' element or leading '..', at most 4096 characters and 255 per name", () => {
  assert.equal(payloadPathError("a/b.txt"), undefined);
  assert.equal(payloadPathError("..a"), "invalid path: must not start with '..': ..a");
  assert.equal(payloadPathError("a/../b"), "invalid path: must not contain '..': a/../b");
  assert.equal(payloadPathError("/etc/passwd"), "invalid path: must be relative path: /etc/passwd");
  assert.equal(payloadPathError("x".repeat(256)), "invalid path: filenames must be less than or equal to 255 characters");
  assert.equal(payloadPathError("a/".repeat(2049)), "invalid path: must be less than or equal to 4096 characters");
  assert.equal(payloadPathError("a//b"), "invalid path: must not be empty: a//b");
});

test("each change lands in a new timestamped directory behind ..data; the old one is removed", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-aw-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
  await writeAtomic(dir, new Map([["a", { data: Buffer.from("1"), mode: 0o644 }], ["sub/b", { data: Buffer.from("2"), mode: 0o644 }]]), { clock });
  const first = await readlink(join(dir, "..data"));
  assert.match(first, /^\.\.2026_01_02_03_04_05\.\d+$/);
  assert.equal(await readlink(join(dir, "sub")), "..data/sub");
  clock.step(61_000);
  await writeAtomic(dir, new Map([["a", { data: Buffer.from("3"), mode: 0o644 }]]), { clock });
  const second = await readlink(join(dir, "..data"));
  assert.match(second, /^\.\.2026_01_02_03_05_06\.\d+$/);
  assert.deepEqual((await readdir(dir)).sort(), ["..data", second, "a"].sort());
  assert.equal(await readFile(join(dir, "a"), "utf8"), "3");
});
