import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lockWaitMessage } from "../../../src/cli/node-env.js";

test("an image command waiting on a home that podyard up holds says so", async (t) => {
  const home = await mkdtemp(join(tmpdir(), "podyard-lockmsg-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  assert.equal(lockWaitMessage(home, 42), `waiting for the lock on ${home} held by pid 42\n`);
  await writeFile(join(home, "podyard.pid"), "42\n");
  assert.equal(lockWaitMessage(home, 42), `waiting for the lock on ${home}: podyard up (pid 42) holds it while the node runs; stop it with \`podyard down --home ${home}\`, or use another --home (push images to its registry instead)\n`);
  assert.equal(lockWaitMessage(home, 7), `waiting for the lock on ${home} held by pid 7\n`);
});
