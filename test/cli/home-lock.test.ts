/** The $PODYARD_HOME lock as a user meets it: `podyard` commands run as processes. */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describeRun, killLeftoverChildren, runTool } from "../helpers/run-tool.js";

const BIN = fileURLToPath(new URL("../../bin/podyard.js", import.meta.url));
const HOLDER = fileURLToPath(new URL("../fsutil/lock-holder.ts", import.meta.url));
after(killLeftoverChildren);

async function withHome(fn: (home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), "podyard-home-lock-"));
  try {
    await fn(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

function podyard(home: string, args: string[]) {
  return runTool(process.execPath, [BIN, ...args], { env: { ...process.env, PODYARD_HOME: home }, timeoutMs: 30_000 });
}

/** The lock's files in `home`. */
async function lockFiles(home: string): Promise<string[]> {
  return (await readdir(home)).filter((n) => n === "lock" || n.startsWith("lock.")).sort();
}

test("a failed command releases the lock before it exits: no lock file stays and the next command does not wait", async () => {
  await withHome(async (home) => {
    const tag = await podyard(home, ["tag", "nosuch:x", "a:b"]);
    assert.equal(tag.code, 3, describeRun("podyard", ["tag", "nosuch:x", "a:b"], tag));
    assert.match(tag.stderr, /nosuch/);
    assert.deepEqual(await lockFiles(home), ["lock.db"], "only the lock database, which holds no PID");
    const images = await podyard(home, ["images"]);
    assert.equal(images.code, 0, describeRun("podyard", ["images"], images));
    assert.doesNotMatch(images.stderr, /waiting/);
    assert.deepEqual(await lockFiles(home), ["lock.db"]);
  });
});

test("a lock file naming a live, unrelated process (this test) does not make images wait", async () => {
  await withHome(async (home) => {
    await writeFile(join(home, "lock"), String(process.pid));
    const images = await podyard(home, ["images"]);
    assert.equal(images.code, 0, describeRun("podyard", ["images"], images));
    assert.match(images.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID/);
    assert.doesNotMatch(images.stderr, /waiting/);
  });
});

test("a command that waits for the lock says for whom, and goes on when the holder is killed", async () => {
  await withHome(async (home) => {
    const holder = spawn(process.execPath, ["--import", "tsx", HOLDER, join(home, "lock"), "forever"], { stdio: ["ignore", "pipe", "inherit"] });
    const holderDone = new Promise((r) => holder.once("close", r));
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on("data", (d: Buffer) => d.toString().includes("locked") && resolve());
        holder.once("close", () => reject(new Error("the holder exited before taking the lock")));
      });
      const cmd = spawn(process.execPath, [BIN, "images"], { env: { ...process.env, PODYARD_HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      cmd.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<number | null>((r) => cmd.once("close", r));
      try {
        await new Promise<void>((resolve, reject) => {
          cmd.stderr.on("data", (d: Buffer) => {
            stderr += d.toString();
            if (stderr.includes("\n")) resolve();
          });
          cmd.once("close", () => reject(new Error(`images exited without waiting: ${stdout}${stderr}`)));
        });
        assert.equal(stderr, `waiting for the lock on ${home} held by pid ${holder.pid}\n`);
        assert.equal(stdout, "", "nothing listed while the lock is held");
        holder.kill("SIGKILL");
        assert.equal(await exited, 0, stderr);
        assert.match(stdout, /^REPOSITORY/);
      } finally {
        cmd.kill("SIGKILL");
      }
    } finally {
      holder.kill("SIGKILL");
      await holderDone;
    }
  });
});
