/**
 * A storage root the registry cannot use is refused when `podyard registry serve` or
 * `podyard registry gc` starts: one line naming the root, exit code 1, instead of a
 * server answering 500s or a collection that "succeeds" on nothing.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { isFailedPrecondition } from "../../../src/errdefs/index.js";
import { RegistryServer } from "../../../src/registry/server/index.js";
import { makeTempDir, PODYARD_BIN, removeDir, runPodyard, startRegistryProcess, type CliResult } from "../../helpers/registry-process.js";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await makeTempDir("root");
  try {
    await fn(dir);
  } finally {
    await chmod(dir, 0o700).catch(() => undefined);
    await removeDir(dir);
  }
}

/** One line on stderr, the exit code of the error's class (3 not found, 6 failed precondition), and no server listening. */
function assertRefused(res: CliResult, line: string, code = 6): void {
  assert.equal(res.code, code, `exit code; stderr: ${res.stderr}`);
  assert.equal(res.stderr, `podyard: error: ${line}\n`);
  assert.doesNotMatch(res.stdout, /listening/);
}

/**
 * Runs `podyard <args>` as a user who cannot read `dir`: as root, the unprivileged user
 * nobody (root reads every directory); as anyone else, the caller, with `dir` at mode 000.
 */
async function runWithoutAccess(dir: string, args: string[]): Promise<CliResult> {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chmod(dir, 0o700);
  else await chmod(dir, 0o000);
  return new Promise<CliResult>((resolve) => {
    // TSX_DISABLE_CACHE: the other user would leave a cache directory of its own in /tmp
    const opts = { timeout: 15_000, env: { ...process.env, TSX_DISABLE_CACHE: "1" }, ...(asRoot ? { uid: 65534, gid: 65534 } : {}) };
    execFile(process.execPath, [PODYARD_BIN, ...args], opts, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : null;
      resolve({ code, signal: err?.signal ?? null, stdout, stderr });
    });
  });
}

test("serve and gc refuse a root that is a file, naming it", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "passwd");
    await writeFile(file, "root:x:0:0::/root:/bin/sh\n");
    assertRefused(await runPodyard(["registry", "serve", "--addr", "127.0.0.1:0", "--root", file]), `registry root ${file} is not a directory`);
    assertRefused(await runPodyard(["registry", "gc", "--root", file]), `registry root ${file} is not a directory`);
    const under = join(file, "store");
    assertRefused(
      await runPodyard(["registry", "serve", "--addr", "127.0.0.1:0", "--root", under]),
      `registry root ${under} is not usable: a parent of it is not a directory`,
    );
  });
});

test("serve and gc refuse a root the user cannot read and write", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "store");
    await mkdir(root);
    const line = `registry root ${root} is not usable: permission denied (it must be readable and writable)`;
    // the parent stays open to the user; the root itself is closed
    await chmod(dir, 0o755);
    assertRefused(await runWithoutAccess(root, ["registry", "serve", "--addr", "127.0.0.1:0", "--root", root]), line);
    assertRefused(await runWithoutAccess(root, ["registry", "gc", "--root", root]), line);
  });
});

test("gc of a missing root fails and creates nothing; serve creates a missing root as before", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "no-such-store");
    assertRefused(await runPodyard(["registry", "gc", "--root", missing]), `registry root ${missing} does not exist`, 3);
    await assert.rejects(stat(missing), { code: "ENOENT" });

    const proc = await startRegistryProcess(missing);
    try {
      assert.ok((await stat(missing)).isDirectory());
      const res = await fetch(`${proc.url}/v2/`);
      assert.equal(res.status, 200);
    } finally {
      await proc.kill();
    }
  });
});

test("RegistryServer.listen refuses a root that is a file", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "file");
    await writeFile(file, "");
    const server = new RegistryServer({ root: file, log: () => {} });
    await assert.rejects(server.listen(0), (e: Error) => isFailedPrecondition(e) && e.message === `registry root ${file} is not a directory`);
    assert.equal(server.server.listening, false);
  });
});
