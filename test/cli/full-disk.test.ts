/**
 * `podyard` on a full disk: $PODYARD_HOME on a real 4 MiB tmpfs, filled by a pull that
 * runs out of space. Reading and removing commands still work, fsck --repair frees the
 * partial download, and the error names the file. Needs root to mount.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildTestImage, pushLayout } from "../helpers/images.js";
import { startRegistry } from "../helpers/registry.js";
import { fillDisk, withTmpfs } from "../helpers/tmpfs.js";
import { describeRun, killLeftoverChildren, runOk, runTool, type RunResult } from "../helpers/run-tool.js";

const BIN = fileURLToPath(new URL("../../bin/podyard.js", import.meta.url));
after(killLeftoverChildren);

async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

test("on a full disk images, inspect, history, fsck and rmi work, fsck --repair frees the partial download, ENOSPC names the file", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root to mount a tmpfs");
    return;
  }
  const reg = await startRegistry();
  const image = await buildTestImage({
    extraLayers: [{ entries: [{ type: "file", path: "data/big", content: randomBytes(6 * 1024 * 1024), mode: 0o644 }], createdBy: "6 MiB" }],
  });
  try {
    await withTmpfs("4m", async (mnt) => {
      const home = join(mnt, "home");
      const host = new URL(reg.url).host;
      await pushLayout(reg.url, "full/big", "v1", image);
      const podyard = (...args: string[]): Promise<RunResult> =>
        runTool(process.execPath, [BIN, ...args], { env: { ...process.env, PODYARD_HOME: home }, timeoutMs: 60_000 });
      const ok = async (...args: string[]): Promise<RunResult> => {
        const r = await podyard(...args);
        assert.equal(r.code, 0, describeRun("podyard", args, r));
        return r;
      };

      const src = await mkdtemp(join(tmpdir(), "podyard-full-disk-src-"));
      try {
        // a small image, made while there is room
        await writeFile(join(src, "hello"), "hello\n");
        await runOk("tar", ["-cf", join(src, "small.tar"), "-C", src, "hello"]);
        await ok("import", join(src, "small.tar"), "my/small:v1");
        // an import that runs out of space says which file it was writing
        await writeFile(join(src, "big"), randomBytes(6 * 1024 * 1024));
        await runOk("tar", ["-cf", join(src, "big.tar"), "-C", src, "big"]);
        const big = await podyard("import", join(src, "big.tar"), "my/big:v1");
        assert.equal(big.code, 5, describeRun("podyard", ["import"], big));
        assert.match(big.stderr, new RegExp(`^podyard: error: no space left on device: writing ${home}/content/ingest/[0-9a-f]{64}/data\\n$`));
      } finally {
        await rm(src, { recursive: true, force: true });
      }

      // a pull that runs out of space fails, never with a bare ENOSPC, and keeps its partial download
      const pull = await podyard("pull", `${host}/full/big:v1`);
      assert.notEqual(pull.code, 0, describeRun("podyard", ["pull"], pull));
      assert.doesNotMatch(pull.stderr, /ENOSPC/);
      // a broken ingest (as a crash mid-start leaves), then the last free bytes go too
      const broken = join(home, "content", "ingest", "a".repeat(64));
      await mkdir(broken);
      await writeFile(join(broken, "data"), "");
      await fillDisk(join(mnt, "filler"));
      assert.equal(await freeBytes(mnt), 0, "the disk is full");

      const images = await ok("images");
      assert.match(images.stdout, /^my\/small\s+v1\s/m);
      assert.match((await ok("inspect", "my/small:v1")).stdout, /"RepoTags": \[\s+"my\/small:v1"/);
      assert.match((await ok("history", "my/small:v1")).stdout, /podyard import/);
      const fsck = await podyard("fsck");
      assert.equal(fsck.code, 1, `fsck exits non-zero while it reports a problem: ${describeRun("podyard", ["fsck"], fsck)}`);
      assert.match(fsck.stdout, /^ingest \S+: unfinished download \(\d+ bytes\)$/m, "the partial download is a problem");
      assert.doesNotMatch(fsck.stdout, /\(removed\)/);
      assert.match((await ok("rmi", "my/small:v1")).stdout, /^Untagged: my\/small:v1$/m);

      const repair = await ok("fsck", "--repair");
      const removed = /^ingest \S+: unfinished download \((\d+) bytes\) \(removed\)$/m.exec(repair.stdout);
      assert.ok(removed, `fsck --repair removes the partial download: ${repair.stdout}`);
      assert.deepEqual(await readdir(join(home, "content", "ingest")), [], "every ingest is gone, the broken one too");
      // how far the pull got before the disk was full varies with the machine's load: the space
      // freed is that partial download's, less the filesystem's rounding
      const partial = Number(removed[1]);
      assert.ok(partial > 0 && await freeBytes(mnt) >= partial - 64 * 1024, `the partial download's ${partial} bytes are free again`);
      assert.match((await ok("images")).stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n$/);
      assert.deepEqual((await readdir(home)).filter((n) => n === "lock" || n.startsWith("lock.")), ["lock.db"], "no lock files left over");
    });
  } finally {
    await reg.close();
    await image.cleanup();
  }
});
