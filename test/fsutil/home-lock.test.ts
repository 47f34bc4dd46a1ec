import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { realClock } from "../../src/clock/index.js";
import { acquireLock } from "../../src/fsutil/index.js";

test("a lock is shared inside a process, waited for across processes, and taken over from a dead owner", async () => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-lock-"));
  const path = join(dir, "lock");
  try {
    const a = await acquireLock(path, { clock: realClock });
    const b = await acquireLock(path, { clock: realClock });
    assert.equal(await readFile(path, "utf8"), String(process.pid));
    await a();
    assert.ok(existsSync(path), "still held by the second holder");
    await b();
    assert.equal(existsSync(path), false, "freed by the last release");

    // another process holds it: we wait until it lets go
    const child = spawn(process.execPath, ["-e", `
      const fs = require("fs");
      fs.writeFileSync(${JSON.stringify(path)} + ".tmp", String(process.pid));
      fs.linkSync(${JSON.stringify(path)} + ".tmp", ${JSON.stringify(path)});
      fs.rmSync(${JSON.stringify(path)} + ".tmp");
      process.stdin.once("data", () => { fs.rmSync(${JSON.stringify(path)}); process.exit(0); });`], { stdio: ["pipe", "ignore", "inherit"] });
    const exited = new Promise((r) => child.once("exit", r));
    for (let i = 0; !existsSync(path); i++) {
      if (i > 1000) throw new Error("the child never took the lock");
      await new Promise((r) => setTimeout(r, 5));
    }
    const waited: number[] = [];
    let got = false;
    const pending = acquireLock(path, { clock: realClock, pollMs: 10, onWait: (pid) => waited.push(pid) }).then((release) => {
      got = true;
      return release;
    });
    for (let i = 0; waited.length === 0; i++) {
      if (i > 1000) throw new Error("acquireLock never reported waiting");
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.deepEqual(waited, [child.pid]);
    assert.equal(got, false, "not taken while the other process holds it");
    child.stdin.write("go");
    const c = await pending;
    assert.equal(await readFile(path, "utf8"), String(process.pid));
    await c();
    await exited;

    // a lock file left by a process that died is taken over
    await writeFile(path, "999999999");
    const d0 = await acquireLock(path, { clock: realClock, pollMs: 20 });
    await d0();
    // and so is an old lock file without a PID (a crash while writing an older lock)
    await writeFile(path, "");
    await utimes(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const d = await acquireLock(path, { clock: realClock, pollMs: 20 });
    assert.equal(await readFile(path, "utf8"), String(process.pid));
    await d();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
