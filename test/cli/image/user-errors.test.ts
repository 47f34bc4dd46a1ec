/**
 * What a new user meets at the edges of the image commands, run as they run them
 * (bin/podyard.js, a temporary PODYARD_HOME, a loopback registry): each failure is one
 * line naming the input, with its class's exit code, and nothing is left half-written.
 */
import { after, before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTestImage, pushLayout } from "../../helpers/images.js";
import { startRegistry, type TestRegistry } from "../../helpers/registry.js";
import { PODYARD_BIN, walkTree } from "../../helpers/registry-process.js";
import { describeRun, killLeftoverChildren, runTool, type RunResult } from "../../helpers/run-tool.js";

after(killLeftoverChildren);

let reg: TestRegistry;
let host: string;
let image: Awaited<ReturnType<typeof buildTestImage>>;
before(async () => {
  reg = await startRegistry();
  host = new URL(reg.url).host;
  image = await buildTestImage();
});
after(async () => {
  await reg.close();
  await image.cleanup();
});

interface Node {
  home: string;
  run(args: string[]): Promise<RunResult>;
  ok(args: string[]): Promise<string>;
  fail(args: string[], code: number, line: string): Promise<void>;
}

/** A fresh PODYARD_HOME (removed after the test) and ways to run podyard on it. */
async function node(t: TestContext): Promise<Node> {
  const home = await mkdtemp(join(tmpdir(), "podyard-cli-user-errors-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const run = (args: string[]): Promise<RunResult> =>
    runTool(process.execPath, [PODYARD_BIN, ...args], { env: { ...process.env, PODYARD_HOME: home, HOME: home }, cwd: home });
  return {
    home,
    run,
    ok: async (args) => {
      const r = await run(args);
      assert.equal(r.code, 0, describeRun("podyard", args, r));
      return r.stdout;
    },
    fail: async (args, code, line) => {
      const r = await run(args);
      assert.equal(r.code, code, describeRun("podyard", args, r));
      assert.equal(r.stderr, `${line}\n`, `one line, no stack: ${describeRun("podyard", args, r)}`);
    },
  };
}

/** A one-file root filesystem in the node's home, to import. */
async function smallRootfs(n: Node): Promise<string> {
  const rootfs = join(n.home, "rootfs");
  await mkdir(rootfs);
  await writeFile(join(rootfs, "hello"), "hello\n");
  return rootfs;
}

async function files(dir: string): Promise<string[]> {
  return (await walkTree(dir).catch(() => [])).filter((p) => !p.endsWith("/"));
}

test("rmi by ID removes an image known by one tag and a digest of one repository, as docker does, without -f", async (t) => {
  const n = await node(t);
  await pushLayout(reg.url, "single/app", "v1", image);
  const digest = image.manifestDescriptor.digest;
  await n.ok(["pull", `${host}/single/app:v1`]);
  await n.ok(["pull", `${host}/single/app@${digest}`]);
  const id = image.manifest.config.digest.slice(7, 19);

  const out = await n.ok(["rmi", id]);
  assert.match(out, new RegExp(`^Untagged: ${host}/single/app:v1\nUntagged: ${host}/single/app@${digest}\n(Deleted: sha256:[a-f0-9]{64}\n)+$`));
  assert.equal(await n.ok(["images", "-q"]), "");
  assert.deepEqual(await files(join(n.home, "content", "blobs")), [], "no blob left");
});

test("images shows an image pulled by tag and by digest as one row, the tag's, with the digest in DIGEST, as docker does", async (t) => {
  const n = await node(t);
  await pushLayout(reg.url, "rows/app", "v1", image);
  const digest = image.manifestDescriptor.digest;
  const id = image.manifest.config.digest.slice(7, 19);
  await n.ok(["pull", `${host}/rows/app@${digest}`]);
  const rows = async (args: string[]): Promise<string[][]> => (await n.ok(args)).trimEnd().split("\n").slice(1).map((l) => l.split(/ {3,}/));
  assert.deepEqual((await rows(["images"])).map((r) => r.slice(0, 3)), [[`${host}/rows/app`, "<none>", id]], "a digest alone is a <none> row");
  await n.ok(["pull", `${host}/rows/app:v1`]);
  assert.deepEqual((await rows(["images"])).map((r) => r.slice(0, 3)), [[`${host}/rows/app`, "v1", id]]);
  assert.deepEqual((await rows(["images", "--digests"])).map((r) => r.slice(0, 4)), [[`${host}/rows/app`, "v1", digest, id]]);
  await n.ok(["tag", `${host}/rows/app:v1`, "other/app:v1"]);
  assert.deepEqual((await rows(["images"])).map((r) => r.slice(0, 2)).sort(), [[`${host}/rows/app`, "v1"], ["other/app", "v1"]], "a row per repository");
});

test("rmi by ID still needs -f for two tags or two repositories, with docker's conflict line", async (t) => {
  const n = await node(t);
  await pushLayout(reg.url, "multi/app", "v1", image);
  await n.ok(["pull", `${host}/multi/app:v1`]);
  const id = image.manifest.config.digest.slice(7, 19);
  const conflict = `podyard: error: conflict: unable to delete ${id} (must be forced) - image is referenced in multiple repositories`;
  await n.ok(["tag", `${host}/multi/app:v1`, `${host}/multi/app:v2`]);
  await n.fail(["rmi", id], 6, conflict);
  await n.ok(["rmi", `${host}/multi/app:v2`]);
  await n.ok(["tag", `${host}/multi/app:v1`, "elsewhere/app:v1"]);
  await n.fail(["rmi", id], 6, conflict);
  assert.equal((await n.ok(["images", "-q"])).trim(), id, "the image is still there");
});

test("import under a digest reference is refused, naming it, and stores nothing", async (t) => {
  const n = await node(t);
  const rootfs = await smallRootfs(n);
  const ref = `mine/rootfs@sha256:${"ab".repeat(32)}`;
  await n.fail(["import", rootfs, ref], 2, `podyard: error: cannot import digest reference ${JSON.stringify(ref)}`);
  assert.equal(await n.ok(["images", "-q"]), "");
  assert.deepEqual(await files(join(n.home, "content")), [], "no blob, no ingest");
});

test("save -o to a path that cannot be a file names that path, exits with its class's code, and leaves no temporary file", async (t) => {
  const n = await node(t);
  await n.ok(["import", await smallRootfs(n), "saved/rootfs:v1"]);
  const out = join(n.home, "out");
  await mkdir(out);
  await writeFile(join(out, "file"), "x");

  await n.fail(["save", "-o", join(out, "missing", "a.tar"), "saved/rootfs:v1"], 3,
    `podyard: error: cannot write ${join(out, "missing", "a.tar")}: no such file or directory`);
  await n.fail(["save", "-o", out, "saved/rootfs:v1"], 2, `podyard: error: cannot write ${out}: it is a directory`);
  await n.fail(["save", "-o", join(out, "file", "a.tar"), "saved/rootfs:v1"], 2, `podyard: error: cannot write ${join(out, "file", "a.tar")}: not a directory`);
  assert.deepEqual(await readdir(out), ["file"], "nothing half-written");
  assert.deepEqual((await readdir(n.home)).filter((f) => f.includes(".tmp-")), []);
});

test("load -i of a missing file or a directory names it, with the not-found and usage codes", async (t) => {
  const n = await node(t);
  await n.fail(["load", "-i", "nosuch.tar"], 3, "podyard: error: archive nosuch.tar not found");
  await mkdir(join(n.home, "adir"));
  await n.fail(["load", "-i", "adir"], 2, "podyard: error: archive adir is a directory; want a tar file");
  assert.equal(await n.ok(["images", "-q"]), "");
});

test("pull --all-tags with a tag is a usage error naming the reference", async (t) => {
  const n = await node(t);
  const ref = `${host}/any/app:v1`;
  await n.fail(["pull", "--all-tags", ref], 2, `podyard: error: tag can't be used with --all-tags/-a: ${JSON.stringify(ref)}`);
});

test("a bad reference to a local image reads as pull's: the parser's message, naming the input once", async (t) => {
  const n = await node(t);
  for (const args of [["rmi", "a..b"], ["inspect", "a..b"], ["history", "a..b"], ["save", "-o", "x.tar", "a..b"], ["tag", "a..b", "b:c"]]) {
    await n.fail(args, 2, 'podyard: error: invalid reference format: "a..b"');
  }
});

test("inspect of several images shows those found and names each missing one, as docker does", async (t) => {
  const n = await node(t);
  await n.ok(["import", await smallRootfs(n), "found/rootfs:v1"]);
  const args = ["inspect", "nosuch", "found/rootfs:v1"];
  const r = await n.run(args);
  assert.equal(r.code, 3, describeRun("podyard", args, r));
  assert.equal(r.stderr, "podyard: error: No such image: nosuch\n");
  assert.deepEqual((JSON.parse(r.stdout) as { RepoTags: string[] }[]).map((i) => i.RepoTags), [["found/rootfs:v1"]]);
  const none = await n.run(["inspect", "nosuch"]);
  assert.equal(none.code, 3);
  assert.equal(none.stdout.trim(), "[]", "docker prints an empty array");
});

/** Starts podyard on `home` with stdin left open; the test kills it if it is still running at the end. */
function startPodyard(t: TestContext, home: string, args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> } {
  const child = spawn(process.execPath, [PODYARD_BIN, ...args], { env: { ...process.env, PODYARD_HOME: home, HOME: home }, stdio: ["pipe", "ignore", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, exited };
}

/** Resolves once `check` is true, looking every 5 ms; false when `stop` settles first. */
async function until(check: () => Promise<boolean>, stop: Promise<unknown>): Promise<boolean> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  while (!stopped) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return false;
}

test("^C while a command holds the lock exits 130 and leaves no lock file", async (t) => {
  const n = await node(t);
  await n.ok(["images"]);
  const load = startPodyard(t, n.home, ["load"]); // stdin stays open: it waits for the archive, holding the lock
  assert.ok(await until(async () => (await readdir(n.home)).includes("lock"), load.exited), "load took the lock");
  load.child.kill("SIGINT");
  assert.deepEqual(await load.exited, { code: 130, signal: null });
  assert.deepEqual((await readdir(n.home)).filter((f) => f.startsWith("lock") && f !== "lock.db"), [], "no lock file left");
  await n.ok(["images"]);
});

test("^C during save -o exits 130 and leaves no half-written archive", async (t) => {
  const n = await node(t);
  const rootfs = join(n.home, "rootfs");
  await mkdir(rootfs);
  await writeFile(join(rootfs, "random"), randomBytes(48 << 20)); // incompressible, so the archive takes a while to write
  await n.ok(["import", rootfs, "big/rootfs:v1"]);
  const out = join(n.home, "out");
  await mkdir(out);
  // the signal must land while the archive is being written: try again if a save finished first
  for (let attempt = 1; ; attempt++) {
    const save = startPodyard(t, n.home, ["save", "-o", join(out, "big.tar"), "big/rootfs:v1"]);
    const writing = await until(async () => (await readdir(out)).some((f) => f.includes(".tmp-")), save.exited);
    if (!writing) {
      assert.ok(attempt < 5, "save never seen writing");
      await rm(join(out, "big.tar"), { force: true });
      continue;
    }
    save.child.kill("SIGINT");
    assert.deepEqual(await save.exited, { code: 130, signal: null });
    break;
  }
  assert.deepEqual(await readdir(out), [], "no temporary file, no archive");
  assert.deepEqual((await readdir(n.home)).filter((f) => f.startsWith("lock") && f !== "lock.db"), [], "no lock file left");
});

test("save to a pipe whose reader is gone ends quietly with SIGPIPE's code (141), as docker does, not 'write EPIPE'", async (t) => {
  const n = await node(t);
  await n.ok(["import", await smallRootfs(n), "piped/rootfs:v1"]);
  const child = spawn(process.execPath, [PODYARD_BIN, "save", "piped/rootfs:v1"], { env: { ...process.env, PODYARD_HOME: n.home, HOME: n.home }, stdio: ["ignore", "pipe", "pipe"] });
  t.after(() => child.kill("SIGKILL"));
  child.stdout.destroy(); // the reader goes before the archive's first byte
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  assert.equal(stderr, "");
  assert.equal(code, 141);
});
