/**
 * What `podyard images|tag|rmi|import|load|fsck|inspect|history` print for dangling
 * (`<none>:<none>`) images, a tag to a digest reference, and image sizes: the real CLI
 * (bin/podyard.js) on a temporary PODYARD_HOME, pulling from a loopback registry.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openNodeEnv } from "../../../src/cli/node-env.js";
import { formatBytes } from "../../../src/cli/image/pull-progress.js";
import { chainIDs } from "../../../src/store/index.js";
import { walkTree } from "../../helpers/registry-process.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { buildTestImage, pushLayout } from "../../helpers/images.js";

const BIN = fileURLToPath(new URL("../../../bin/podyard.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function podyard(home: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PODYARD_HOME: home, HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(home: string, args: string[]): Promise<string> {
  const r = await podyard(home, args);
  assert.equal(r.code, 0, `podyard ${args.join(" ")}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** The rows of `podyard images`, split into columns (without the header). */
async function imageRows(home: string): Promise<string[][]> {
  const [header, ...rows] = (await ok(home, ["images"])).trimEnd().split("\n");
  assert.match(header ?? "", /^REPOSITORY {3,}TAG {3,}IMAGE ID {3,}CREATED {3,}SIZE$/);
  return rows.map((r) => r.split(/ {3,}/));
}

async function blobFiles(home: string): Promise<string[]> {
  return (await walkTree(join(home, "content", "blobs")).catch(() => [])).filter((p) => !p.endsWith("/"));
}

const homes: string[] = [];
async function freshHome(): Promise<string> {
  const home = await mkdtemp(join(tmpdir(), "podyard-cli-images-"));
  homes.push(home);
  return home;
}

let reg: TestRegistry;
let host: string;
let imageA: Awaited<ReturnType<typeof buildTestImage>>;
let imageB: Awaited<ReturnType<typeof buildTestImage>>;
before(async () => {
  reg = await startRegistry();
  host = new URL(reg.url).host;
  const layer = (text: string): { entries: { type: "file"; path: string; content: Buffer; mode: number }[]; createdBy: string } =>
    ({ entries: [{ type: "file", path: "etc/motd", content: Buffer.from(text), mode: 0o644 }], createdBy: "COPY motd /etc/motd" });
  imageA = await buildTestImage({ extraLayers: [layer("image A\n")] });
  imageB = await buildTestImage({ extraLayers: [layer("image B\n")] });
});
after(async () => {
  await reg.close();
  await imageA.cleanup();
  await imageB.cleanup();
  await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })));
});

test("import without a name keeps a <none> image: listed, counted by fsck, named by tag, removed by rmi with its blobs", async () => {
  const home = await freshHome();
  const rootfs = join(home, "rootfs");
  await mkdir(join(rootfs, "etc"), { recursive: true });
  await writeFile(join(rootfs, "etc", "hostname"), "imported\n");

  const id = (await ok(home, ["import", rootfs])).trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  const short = id.slice(7, 19);
  const rows = await imageRows(home);
  assert.deepEqual(rows.map((r) => r.slice(0, 3)), [["<none>", "<none>", short]]);
  assert.match(await ok(home, ["fsck"]), /checked 3 blobs, 1 images, 1 snapshots: 0 problem\(s\)/);

  assert.equal(await ok(home, ["tag", short, "mine/rootfs:v1"]), "");
  assert.deepEqual((await imageRows(home)).map((r) => r.slice(0, 3)), [["mine/rootfs", "v1", short]], "the <none> row is gone");
  assert.match(await ok(home, ["rmi", "mine/rootfs:v1"]), new RegExp(`Untagged: mine/rootfs:v1\nDeleted: `));
  assert.deepEqual(await imageRows(home), []);
  assert.deepEqual(await blobFiles(home), [], "no blob left");

  const again = (await ok(home, ["import", rootfs])).trim();
  assert.deepEqual((await imageRows(home)).map((r) => r.slice(0, 3)), [["<none>", "<none>", again.slice(7, 19)]]);
  const out = await ok(home, ["rmi", again.slice(7, 19)]);
  assert.doesNotMatch(out, /Untagged/, "a <none> image has no name to untag");
  assert.match(out, /Deleted: sha256:/);
  assert.deepEqual(await imageRows(home), []);
  assert.deepEqual(await blobFiles(home), [], "no blob left");
});

test("load of an untagged docker-archive keeps a <none> image that a later rmi of another image leaves alone", async () => {
  const home = await freshHome();
  const rootfs = join(home, "rootfs");
  await mkdir(rootfs, { recursive: true });
  await writeFile(join(rootfs, "hello"), "hello\n");
  const id = (await ok(home, ["import", rootfs, "saved/rootfs:v1"])).trim();
  const archive = join(home, "untagged.tar");
  await ok(home, ["save", "-o", archive, id]);
  await ok(home, ["rmi", "saved/rootfs:v1"]);
  assert.deepEqual(await blobFiles(home), []);

  assert.equal((await ok(home, ["load", "-i", archive])).trim(), `Loaded image ID: ${id}`);
  assert.deepEqual((await imageRows(home)).map((r) => r.slice(0, 3)), [["<none>", "<none>", id.slice(7, 19)]]);
  const blobs = await blobFiles(home);
  assert.equal(blobs.length, 3, "manifest, config and layer are kept");

  await ok(home, ["import", rootfs, "other/rootfs:v1"]); // another image with the same layer blob
  await ok(home, ["rmi", "other/rootfs:v1"]);
  assert.deepEqual((await imageRows(home)).map((r) => r.slice(0, 3)), [["<none>", "<none>", id.slice(7, 19)]], "still there");
  assert.deepEqual((await blobFiles(home)).sort(), blobs.sort());
});

test("a re-pull that moves a tag to a new image leaves the old one as <none> until it is removed", async () => {
  const home = await freshHome();
  const ref = `${host}/moving/busybox:v1`;
  await pushLayout(reg.url, "moving/busybox", "v1", imageA);
  await ok(home, ["pull", ref]);
  await pushLayout(reg.url, "moving/busybox", "v1", imageB);
  await ok(home, ["pull", ref]);
  const a = imageA.manifest.config.digest.slice(7, 19);
  const b = imageB.manifest.config.digest.slice(7, 19);
  assert.deepEqual((await imageRows(home)).map((r) => r.slice(0, 3)).sort(), [[`${host}/moving/busybox`, "v1", b], ["<none>", "<none>", a]].sort());
  assert.match(await ok(home, ["fsck"]), /2 images, .*0 problem\(s\)/);
  await ok(home, ["rmi", a]);
  assert.deepEqual((await imageRows(home)).map((r) => r.slice(0, 3)), [[`${host}/moving/busybox`, "v1", b]]);
  assert.match(await ok(home, ["fsck"]), /1 images, .*0 problem\(s\)/);
});

test("tag to a digest reference is refused with docker's one line, and records nothing", async () => {
  const home = await freshHome();
  const rootfs = join(home, "rootfs");
  await mkdir(rootfs, { recursive: true });
  await writeFile(join(rootfs, "a"), "a\n");
  await ok(home, ["import", rootfs, "src/image:v1"]);
  const r = await podyard(home, ["tag", "src/image:v1", `mine/image@sha256:${"ab".repeat(32)}`]);
  assert.equal(r.code, 2, "the invalid-argument exit code");
  assert.equal(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.equal(lines[0], "podyard: error: refusing to create a tag with a digest reference");
  assert.deepEqual((await imageRows(home)).map((r) => r.slice(0, 2)), [["src/image", "v1"]]);
});

test("SIZE in images, inspect and history is the unpacked size of the layers", async () => {
  const home = await freshHome();
  const ref = `${host}/sizes/busybox:v1`;
  await pushLayout(reg.url, "sizes/busybox", "v1", imageA);
  await ok(home, ["pull", ref]);
  const env = await openNodeEnv({ home, lock: false });
  let layerBytes: number[];
  try {
    layerBytes = await Promise.all(chainIDs(imageA.config.rootfs.diff_ids).map(async (c) => (await env.snapshotter.usage(c)).size));
  } finally {
    env.close();
  }
  const unpacked = layerBytes.reduce((n, s) => n + s, 0);
  const compressed = imageA.manifest.config.size + imageA.manifest.layers.reduce((n, l) => n + l.size, 0);
  assert.notEqual(formatBytes(unpacked), formatBytes(compressed), "the test tells the two apart");

  assert.equal((await imageRows(home))[0]?.[4], formatBytes(unpacked));
  const inspect = JSON.parse(await ok(home, ["inspect", ref])) as { Size: number }[];
  assert.equal(inspect[0]?.Size, unpacked);
  const history = (await ok(home, ["history", ref])).trimEnd().split("\n").slice(1).map((r) => r.split(/ {3,}/));
  assert.deepEqual(history.map((r) => r[3]), [...layerBytes].reverse().map(formatBytes), "newest first, one per layer");
});

test("images --digests shows a pulled image's registry digest, and <none> for a docker-archive load, which holds none", async () => {
  const home = await freshHome();
  await pushLayout(reg.url, "digests/a", "v1", imageA);
  const ref = `${host}/digests/a:v1`;
  await ok(home, ["pull", ref]);
  const digestColumn = async (h: string): Promise<string[]> =>
    (await ok(h, ["images", "--digests"])).trimEnd().split("\n").slice(1).map((l) => l.split(/\s{3,}/)[2] ?? "");
  assert.deepEqual(await digestColumn(home), [imageA.manifestDescriptor.digest]);
  const archive = join(home, "a.tar");
  await ok(home, ["save", "-o", archive, ref]);
  const fresh = await freshHome();
  await ok(fresh, ["load", "-i", archive]);
  assert.deepEqual(await digestColumn(fresh), ["<none>"]);
});

test("a tag into another repository adds no RepoDigest until that name is pushed, as docker lists only repositories pulled or pushed", async () => {
  const home = await freshHome();
  await pushLayout(reg.url, "repodigests/a", "v1", imageA);
  const pulled = `${host}/repodigests/a:v1`;
  const other = `${host}/repodigests/other:v1`;
  await ok(home, ["pull", pulled]);
  const digest = imageA.manifestDescriptor.digest;
  const repoDigests = async (name: string): Promise<string[]> =>
    (JSON.parse(await ok(home, ["inspect", name])) as { RepoDigests: string[] }[])[0]?.RepoDigests ?? [];
  await ok(home, ["tag", pulled, `${host}/repodigests/a:v2`]);
  await ok(home, ["tag", pulled, other]);
  assert.deepEqual(await repoDigests(other), [`${host}/repodigests/a@${digest}`], "the tag in another repository adds none");
  await ok(home, ["push", other]);
  assert.deepEqual(await repoDigests(other), [`${host}/repodigests/a@${digest}`, `${host}/repodigests/other@${digest}`], "the push adds it");
});
