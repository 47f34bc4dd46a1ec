import { test } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockHolders } from "../../src/fsutil/index.js";

test("lockHolders reads the holders of a file from /proc/locks, matching device and inode", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-lock-holders-"));
  try {
    const file = join(dir, "f");
    await writeFile(file, "");
    const st = statSync(file, { bigint: true });
    const major = ((st.dev >> 8n) & 0xfffn).toString(16).padStart(2, "0");
    const minor = (st.dev & 0xffn).toString(16).padStart(2, "0");
    const text = [
      `1: POSIX  ADVISORY  WRITE 4242 ${major}:${minor}:${st.ino} 1073741824 1073742335`,
      `2: POSIX  ADVISORY  READ 4343 ${major}:${minor}:${st.ino + 1n} 1073741826 1073742335`,
      `3: FLOCK  ADVISORY  WRITE 4444 ${major}:${minor}:${st.ino} 0 EOF`,
      `4: POSIX  ADVISORY  READ ${process.pid} ${major}:${minor}:${st.ino} 1073741826 1073742335`,
      `5: -> POSIX  ADVISORY  WRITE 4545 ${major}:${minor}:${st.ino} 1073741824 1073742335`,
      "garbage line",
      "",
    ].join("\n");
    assert.deepEqual(lockHolders(file, text), [4242, 4545]);
    assert.deepEqual(lockHolders(join(dir, "absent"), text), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
