/**
 * Blobs corrupted on disk after a pull (bytes changed at the same size, or truncated), as a
 * user of the `podyard` command meets them: a pull re-fetches what it relies on and never
 * says "Image is up to date" over a corrupt blob; `save` (either format) fails naming the
 * image and the blob and leaves no output file; `fsck` exits non-zero while it reports a
 * problem, and `fsck --repair` keeps the image's name so that the next pull restores it.
 */
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { chmod, mkdtemp, open, readFile, readdir, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestEncoded, digestOf, type Digest } from "../../src/oci/index.js";
import { LocalContentStore } from "../../src/store/index.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { buildTestImage, openTestNode, pushLayout } from "../helpers/images.js";
import { describeRun, killLeftoverChildren, runTool, type RunResult } from "../helpers/run-tool.js";

const BIN = fileURLToPath(new URL("../../bin/podyard.js", import.meta.url));

let reg: TestRegistry;
let image: Awaited<ReturnType<typeof buildTestImage>>;
let ref: string;

before(async () => {
  reg = await startRegistry();
  image = await buildTestImage({
    extraLayers: [{ entries: [{ type: "file", path: "etc/motd", content: Buffer.from("intact\n"), mode: 0o644 }], createdBy: "COPY motd /etc/motd" }],
  });
  await pushLayout(reg.url, "integrity/busybox", "v1", image);
  ref = `${new URL(reg.url).host}/integrity/busybox:v1`;
});
after(async () => {
  killLeftoverChildren();
  await reg.close();
  await image.cleanup();
});

/** A node home of its own, removed when the test ends, and the podyard command run against it. */
async function cli(t: TestContext): Promise<{ home: string; run(...args: string[]): Promise<RunResult>; ok(...args: string[]): Promise<RunResult> }> {
  const node = await openTestNode();
  node.env.close();
  t.after(() => node.close());
  const run = (...args: string[]): Promise<RunResult> => runTool(process.execPath, [BIN, ...args], { env: { ...process.env, PODYARD_HOME: node.home } });
  return {
    home: node.home,
    run,
    ok: async (...args) => {
      const r = await run(...args);
      assert.equal(r.code, 0, describeRun("podyard", args, r));
      return r;
    },
  };
}

function blobPath(home: string, d: Digest): string {
  return join(home, "content", "blobs", "sha256", digestEncoded(d));
}

/** Flips one byte in the middle of the stored blob: same size, other bytes. */
async function flipByte(home: string, d: Digest): Promise<void> {
  const path = blobPath(home, d);
  await chmod(path, 0o644);
  const f = await open(path, "r+");
  try {
    const { size } = await f.stat();
    const at = Math.floor(size / 2);
    const b = Buffer.alloc(1);
    await f.read(b, 0, 1, at);
    b[0] = (b[0] ?? 0) ^ 0xff;
    await f.write(b, 0, 1, at);
  } finally {
    await f.close();
  }
}

/** Cuts the stored blob to half its size. */
async function halve(home: string, d: Digest): Promise<void> {
  const path = blobPath(home, d);
  await chmod(path, 0o644);
  const { length } = await readFile(path);
  await truncate(path, Math.floor(length / 2));
}

async function intact(home: string, d: Digest): Promise<boolean> {
  return digestOf(await readFile(blobPath(home, d))) === d;
}

const short = (d: Digest): string => digestEncoded(d).slice(0, 12);
const upToDate = (): string => `Status: Image is up to date for ${ref}`;
const downloaded = (): string => `Status: Downloaded newer image for ${ref}`;

void test("a layer changed in place (same size): the next pull downloads it again instead of saying up to date, also once it was found intact before", async (t) => {
  const c = await cli(t);
  const [base, top] = image.manifest.layers.map((l) => l.digest) as [Digest, Digest];
  await c.ok("pull", ref);
  // a second pull finds everything intact (and remembers that it checked)
  assert.ok((await c.ok("pull", ref)).stdout.includes(upToDate()));

  await flipByte(c.home, top);
  const again = await c.ok("pull", ref);
  assert.ok(again.stdout.includes(downloaded()), again.stdout);
  assert.ok(again.stdout.includes(`${short(top)}: Pull complete`), `the corrupt layer is pulled again:\n${again.stdout}`);
  assert.ok(again.stdout.includes(`${short(base)}: Already exists`), `the intact layer is kept:\n${again.stdout}`);
  assert.ok(await intact(c.home, top), "the stored layer is the registry's again");
  assert.ok((await c.ok("pull", ref)).stdout.includes(upToDate()), "and the pull after that is up to date");

  // a corrupted blob that was never re-checked since its download
  await c.ok("rmi", ref);
  await c.ok("pull", ref);
  await flipByte(c.home, base);
  const fresh = await c.ok("pull", ref);
  assert.ok(fresh.stdout.includes(downloaded()), fresh.stdout);
  assert.ok(await intact(c.home, base));
});

void test("a truncated layer, a changed config and a changed manifest: the pull fetches each again and the image inspects", async (t) => {
  const c = await cli(t);
  const layer = image.manifest.layers[0]?.digest as Digest;
  const config = image.manifest.config.digest;
  const manifest = image.manifestDescriptor.digest;
  await c.ok("pull", ref);
  await halve(c.home, layer);
  await flipByte(c.home, config);
  await flipByte(c.home, manifest);
  const again = await c.ok("pull", ref);
  assert.ok(again.stdout.includes(downloaded()), again.stdout);
  assert.ok(again.stdout.includes(`Digest: ${manifest}`), again.stdout);
  for (const d of [layer, config, manifest]) assert.ok(await intact(c.home, d), `${d} fetched again`);
  const inspect = JSON.parse((await c.ok("inspect", ref)).stdout) as { Id: string }[];
  assert.equal(inspect[0]?.Id, config);
});

void test("save refuses a corrupt blob in either format, naming the image and the blob, and writes no file", async (t) => {
  const c = await cli(t);
  const out = await mkdtemp(join(tmpdir(), "podyard-save-"));
  t.after(() => rm(out, { recursive: true, force: true }));
  const layer = image.manifest.layers[0]?.digest as Digest;
  await c.ok("pull", ref);
  await flipByte(c.home, layer);
  for (const format of ["docker-archive", "oci-archive"]) {
    const file = join(out, `${format}.tar`);
    const r = await c.run("save", "--format", format, "-o", file, ref);
    assert.notEqual(r.code, 0, describeRun("podyard", ["save", "--format", format], r));
    assert.ok(r.stderr.includes(`image ${ref}: blob ${layer} in the content store is corrupt`), `${format}: ${r.stderr}`);
    assert.deepEqual(await readdir(out), [], `${format}: no archive and no temporary file left`);
  }
  await halve(c.home, layer);
  const r = await c.run("save", "-o", join(out, "cut.tar"), ref);
  assert.notEqual(r.code, 0);
  assert.ok(r.stderr.includes(`image ${ref}: blob ${layer} in the content store is corrupt`), r.stderr);
  assert.match(r.stderr, /expected \d+ bytes/, r.stderr);
  assert.deepEqual(await readdir(out), []);
});

void test("fsck exits 1 on a corrupt blob; --repair removes it but keeps the name, the next pull restores the image, and fsck is clean", async (t) => {
  const c = await cli(t);
  const layer = image.manifest.layers[1]?.digest as Digest;
  const config = image.manifest.config.digest;
  await c.ok("pull", ref);
  assert.match((await c.ok("fsck")).stdout, /: 0 problem\(s\)/);
  await flipByte(c.home, layer);
  await flipByte(c.home, config);

  const check = await c.run("fsck");
  assert.equal(check.code, 1, describeRun("podyard", ["fsck"], check));
  assert.ok(check.stdout.includes(`blob ${layer}: content hashes to`), check.stdout);
  assert.ok(check.stdout.includes(`blob ${config}: content hashes to`), check.stdout);

  const repair = await c.run("fsck", "--repair");
  assert.equal(repair.code, 0, describeRun("podyard", ["fsck", "--repair"], repair));
  assert.ok(repair.stdout.includes(`blob ${layer}: content hashes to`), repair.stdout);
  assert.match(repair.stdout, new RegExp(`image ${ref}: missing .*blob ${layer}.* \\(marked for re-pull\\)`), repair.stdout);
  const images = (await c.ok("images")).stdout;
  assert.ok(images.includes("integrity/busybox"), `the image keeps its name:\n${images}`);
  const stillBroken = await c.run("fsck");
  assert.equal(stillBroken.code, 1, `the image still lacks its blobs until it is pulled:\n${stillBroken.stdout}`);

  const pulled = await c.ok("pull", ref);
  assert.ok(pulled.stdout.includes(downloaded()), pulled.stdout);
  for (const d of [layer, config]) assert.ok(await intact(c.home, d), `${d} fetched again`);
  const clean = await c.run("fsck");
  assert.equal(clean.code, 0, describeRun("podyard", ["fsck"], clean));
  assert.match(clean.stdout, /checked 4 blobs, 1 images, 2 snapshots: 0 problem\(s\)/, clean.stdout);
  assert.ok((await c.ok("pull", ref)).stdout.includes(upToDate()));
});

void test("fsck exits 1 while an unfinished download is left, and 0 once --repair has dropped it", async (t) => {
  const c = await cli(t);
  const w = await new LocalContentStore(join(c.home, "content")).writer({ ref: "pull-sha256:unfinished" });
  await w.write(Buffer.from("half a layer"));
  await w.close();
  const check = await c.run("fsck");
  assert.equal(check.code, 1, describeRun("podyard", ["fsck"], check));
  assert.match(check.stdout, /ingest pull-sha256:unfinished: unfinished download \(12 bytes\)\n/, check.stdout);
  const repair = await c.run("fsck", "--repair");
  assert.equal(repair.code, 0, describeRun("podyard", ["fsck", "--repair"], repair));
  assert.match(repair.stdout, /unfinished download \(12 bytes\) \(removed\)/, repair.stdout);
  const clean = await c.run("fsck");
  assert.equal(clean.code, 0, describeRun("podyard", ["fsck"], clean));
});
