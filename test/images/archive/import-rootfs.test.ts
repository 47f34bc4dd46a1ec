import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream } from "node:fs";
import { chmod, chown, link, mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { pack } from "tar-stream";
import { FakeClock } from "../../../src/clock/index.js";
import { isInvalidArgument, isNotFound } from "../../../src/errdefs/index.js";
import { IMPORT_CREATED_BY, importRootfs, type ImportResult } from "../../../src/images/index.js";
import { Digester, MediaType, digestOf, type ImageConfig } from "../../../src/oci/index.js";
import { hostPlatform } from "../../../src/oci/index.js";
import type { NodeEnv } from "../../../src/cli/node-env.js";
import { cleanup, freshNode, readTar, tempDir } from "./archive-fixture.js";

after(cleanup);

const CREATED = Date.UTC(2024, 4, 1, 12, 30, 0);

/** The imported layer, copied out of the content store, read back entry by entry. */
async function layerEntries(env: NodeEnv, result: ImportResult): Promise<Awaited<ReturnType<typeof readTar>>> {
  const file = join(await tempDir(), "layer.tar.gz");
  await pipeline(await env.content.reader(result.layer.digest), createWriteStream(file));
  return readTar(file);
}

async function config(env: NodeEnv, result: ImportResult): Promise<ImageConfig & { config: Record<string, unknown> }> {
  return JSON.parse((await env.imageService.readBlob(result.id)).toString("utf8")) as ImageConfig & { config: Record<string, unknown> };
}

void test("a directory imports as one gzip layer keeping modes, owners, symlinks and hard links", async () => {
  const env = await freshNode();
  const root = await tempDir();
  await mkdir(join(root, "bin"));
  await mkdir(join(root, "srv/data"), { recursive: true });
  await writeFile(join(root, "bin/tool"), "#!/bin/sh\necho tool\n");
  await chmod(join(root, "bin/tool"), 0o755);
  await writeFile(join(root, "srv/data/file.txt"), "data\n");
  await chmod(join(root, "srv/data"), 0o750);
  await symlink("/bin/tool", join(root, "bin/alias"));
  await link(join(root, "srv/data/file.txt"), join(root, "srv/hard.txt"));
  const root0 = process.getuid?.() === 0;
  if (root0) await chown(join(root, "srv/data/file.txt"), 1000, 1001);

  const result = await importRootfs(env.imageService, root, {
    name: "imported:v1", message: "from a directory", changes: ['CMD ["/bin/tool"]', "ENV A=b", "WORKDIR /srv"], clock: new FakeClock(CREATED),
  });
  assert.equal(result.record?.name, "docker.io/library/imported:v1");
  assert.equal(result.layer.mediaType, MediaType.ociLayerGzip);
  const entries = await layerEntries(env, result);
  assert.deepEqual([...entries.keys()].sort(), ["bin", "bin/alias", "bin/tool", "srv", "srv/data", "srv/data/file.txt", "srv/hard.txt"]);
  assert.equal(entries.get("bin/tool")?.header.mode, 0o755);
  assert.equal(entries.get("bin/tool")?.body.toString(), "#!/bin/sh\necho tool\n");
  assert.equal(entries.get("srv/data")?.header.mode, 0o750);
  assert.equal(entries.get("bin/alias")?.header.type, "symlink");
  assert.equal(entries.get("bin/alias")?.header.linkname, "/bin/tool");
  // both names are one inode: the one sorted first holds the bytes, the other links to it
  assert.equal(entries.get("srv/data/file.txt")?.body.toString(), "data\n");
  assert.equal(entries.get("srv/hard.txt")?.header.type, "link");
  assert.equal(entries.get("srv/hard.txt")?.header.linkname, "srv/data/file.txt");
  if (root0) assert.deepEqual([entries.get("srv/data/file.txt")?.header.uid, entries.get("srv/data/file.txt")?.header.gid], [1000, 1001]);

  const cfg = await config(env, result);
  assert.equal(cfg.created, "2024-05-01T12:30:00.000Z");
  assert.equal(cfg.architecture, hostPlatform().architecture);
  assert.equal(cfg.os, "linux");
  assert.deepEqual(cfg.rootfs, { type: "layers", diff_ids: [result.diffID] });
  assert.deepEqual(cfg.history, [{ created: "2024-05-01T12:30:00.000Z", created_by: IMPORT_CREATED_BY, comment: "from a directory" }]);
  assert.deepEqual(cfg.config, { Cmd: ["/bin/tool"], Env: ["A=b"], WorkingDir: "/srv" });
  const details = await env.imageService.details("imported:v1");
  assert.equal(details.record.configDigest, result.id);
  assert.equal(details.record.created, "2024-05-01T12:30:00.000Z");
});

async function writeTar(out: string): Promise<void> {
  const p = pack();
  const writing = pipeline(p, createWriteStream(out));
  p.entry({ name: "etc/", type: "directory", mode: 0o755 });
  p.entry({ name: "etc/hostname", mode: 0o644 }, "imported\n");
  p.entry({ name: "bin/sh", type: "symlink", linkname: "busybox" });
  p.finalize();
  await writing;
}

function zstdMissing(): string | undefined {
  try {
    execFileSync("zstd", ["--version"], { stdio: "ignore" });
    return undefined;
  } catch (err) {
    return `zstd not runnable: ${(err as Error).message}`;
  }
}

for (const compression of ["none", "gzip", "zstd"] as const) {
  void test(`a tar (${compression}) imports as the layer, recompressed to gzip, diffID of the plain tar`, async (t) => {
    const env = await freshNode();
    const dir = await tempDir();
    const plain = join(dir, "rootfs.tar");
    await writeTar(plain);
    let source = plain;
    if (compression === "gzip") {
      source = join(dir, "rootfs.tar.gz");
      await pipeline(createReadStream(plain), createGzip(), createWriteStream(source));
    } else if (compression === "zstd") {
      const why = zstdMissing();
      if (why !== undefined) {
        console.log(why);
        t.skip(why);
        return;
      }
      source = join(dir, "rootfs.tar.zst");
      execFileSync("zstd", ["-q", "-19", plain, "-o", source]);
    }
    const d = new Digester();
    for await (const c of createReadStream(plain)) d.update(c as Buffer);

    const result = await importRootfs(env.imageService, source, { clock: new FakeClock(CREATED) });
    assert.equal(result.record, undefined, "no name, no record");
    assert.equal(result.diffID, d.digest());
    const entries = await layerEntries(env, result);
    assert.deepEqual([...entries.keys()].sort(), ["bin/sh", "etc", "etc/hostname"]);
    assert.equal(entries.get("etc/hostname")?.body.toString(), "imported\n");
    const cfg = await config(env, result);
    assert.deepEqual(cfg.history, [{ created: "2024-05-01T12:30:00.000Z", created_by: IMPORT_CREATED_BY }]);
    assert.equal(result.id, digestOf(await env.imageService.readBlob(result.id)));
    // kept as a dangling image (docker's <none>:<none>), its one record named by its ID
    assert.deepEqual(env.imageService.list().map((r) => r.name), [result.id]);
  });
}

void test("import refuses what is no tar, a missing source, and a bad change, before storing anything", async () => {
  const env = await freshNode();
  const dir = await tempDir();
  const text = join(dir, "notes.txt");
  await writeFile(text, "not a tar ".repeat(100));
  await assert.rejects(importRootfs(env.imageService, text), (err: Error) => isInvalidArgument(err) && /not a tar archive/.test(err.message));
  await assert.rejects(importRootfs(env.imageService, join(dir, "missing")), (err) => isNotFound(err));
  await assert.rejects(importRootfs(env.imageService, dir, { changes: ["RUN make"] }), /RUN is not supported/);
  await assert.rejects(importRootfs(env.imageService, dir, { name: "Bad Name" }), (err) => isInvalidArgument(err));
  const blobs = [];
  for await (const b of env.content.walk()) blobs.push(b.digest);
  assert.deepEqual(blobs, []);
});
