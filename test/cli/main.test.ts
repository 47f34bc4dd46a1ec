/**
 * The podyard command as a user runs it: one error line with one prefix, naming the
 * input; exit codes by kind of failure; --debug for stacks; help that shows the table
 * and defaults as typed. Each test spawns bin/podyard.js with its own PODYARD_HOME.
 */
import { after, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BasicAuthorizer, Htpasswd } from "../../src/registry/server/index.js";
import { freePort } from "../helpers/distribution.js";
import { startRegistry } from "../helpers/registry.js";
import { PODYARD_BIN } from "../helpers/registry-process.js";
import { describeRun, killLeftoverChildren, runTool, type RunResult } from "../helpers/run-tool.js";
import { htpasswdLine } from "../registry/server/auth/helpers.js";

after(killLeftoverChildren);

async function podyard(t: TestContext, args: string[], input?: string): Promise<RunResult> {
  const home = await mkdtemp(join(tmpdir(), "podyard-cli-main-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  return runTool(process.execPath, [PODYARD_BIN, ...args], {
    env: { ...process.env, PODYARD_HOME: home, HOME: home, DOCKER_CONFIG: join(home, ".docker") },
    ...(input !== undefined ? { input } : {}),
  });
}

/** The run failed with `code` and wrote exactly `line` (one line, no stack) to stderr. */
function assertFailure(r: RunResult, args: string[], code: number, line: string): void {
  assert.equal(r.code, code, describeRun("podyard", args, r));
  assert.equal(r.stderr, `${line}\n`, describeRun("podyard", args, r));
}

void test("a bad reference names the input, on one line, and exits with the usage code", async (t) => {
  const args = ["pull", "a..b"];
  assertFailure(await podyard(t, args), args, 2, 'podyard: error: invalid reference format: "a..b"');
  const upper = ["inspect", "Nginx"];
  const r = await podyard(t, upper);
  assert.equal(r.code, 2, describeRun("podyard", upper, r));
  assert.match(r.stderr, /^podyard: error: .*must be lowercase.*\n$/, r.stderr);
  assert.equal(r.stderr.split('"Nginx"').length - 1, 1, `names the input once: ${r.stderr}`);
});

void test("--debug, anywhere before --, adds the stack trace of the error and its causes", async (t) => {
  for (const args of [["--debug", "pull", "a..b"], ["pull", "a..b", "--debug"]]) {
    const r = await podyard(t, args);
    assert.equal(r.code, 2, describeRun("podyard", args, r));
    const lines = r.stderr.split("\n");
    assert.equal(lines[0], 'podyard: error: invalid reference format: "a..b"');
    assert.match(r.stderr, /\n {4}at /, "a stack trace");
    assert.match(r.stderr, /\ncaused by: InvalidArgumentError: invalid reference format/, "the causes");
  }
});

void test("commander's usage errors get the same prefix on one line, a pointer to help, and the usage code", async (t) => {
  const cases: [string[], string][] = [
    [["pull"], "podyard: error: missing required argument 'image' (see 'podyard pull --help')"],
    [["pull", "--nope", "x"], "podyard: error: unknown option '--nope' (see 'podyard pull --help')"],
    [["registry", "gc"], "podyard: error: required option '--root <dir>' not specified (see 'podyard registry gc --help')"],
    [["registry", "serve", "--root", "/nonexistent", "--addr", "x"],
      `podyard: error: option '--addr <host:port>' argument 'x' is invalid. want host:port, got "x" (see 'podyard registry serve --help')`],
  ];
  for (const [args, line] of cases) assertFailure(await podyard(t, args), args, 2, line);
});

void test("flags that do not go together are usage errors (exit 2), on one line", async (t) => {
  const root = await mkdtemp(join(tmpdir(), "podyard-cli-main-root-"));
  t.after(() => rm(root, { recursive: true, force: true }));
  const cases: [string[], string][] = [
    [["pull", "-a", "busybox:1.36"], `podyard: error: tag can't be used with --all-tags/-a: "busybox:1.36"`],
    [["registry", "serve", "--root", root, "--addr", "127.0.0.1:0", "--anonymous-pull"], "podyard: error: --anonymous-pull needs --token-auth"],
    [["registry", "serve", "--root", root, "--addr", "127.0.0.1:0", "--tls-key", join(root, "key.pem")], "podyard: error: --tls-cert and --tls-key go together"],
  ];
  for (const [args, line] of cases) assertFailure(await podyard(t, args), args, 2, line);
});

void test("load names a missing archive (exit 3, as import does) and one that is a directory (exit 2)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "podyard-cli-main-dir-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = ["load", "-i", join(dir, "nope.tar")];
  assertFailure(await podyard(t, missing), missing, 3, `podyard: error: archive ${join(dir, "nope.tar")} not found`);
  const directory = ["load", "-i", dir];
  assertFailure(await podyard(t, directory), directory, 2, `podyard: error: archive ${dir} is a directory; want a tar file`);
});

void test("save names the output it cannot write, and leaves nothing behind", async (t) => {
  const home = await mkdtemp(join(tmpdir(), "podyard-cli-main-"));
  t.after(() => rm(home, { recursive: true, force: true }));
  const run = (args: string[]): Promise<RunResult> => runTool(process.execPath, [PODYARD_BIN, ...args], {
    env: { ...process.env, PODYARD_HOME: home, HOME: home, DOCKER_CONFIG: join(home, ".docker") },
  });
  const rootfs = join(home, "rootfs");
  await mkdir(rootfs);
  await writeFile(join(rootfs, "hello"), "hi\n");
  const imported = await run(["import", rootfs, "app:v1"]);
  assert.equal(imported.code, 0, describeRun("podyard", ["import"], imported));
  const out = join(home, "out");
  await mkdir(out);
  await writeFile(join(out, "file"), "x");
  const cases: [string[], number, string][] = [
    [["save", "-o", join(out, "nodir", "x.tar"), "app:v1"], 3, `podyard: error: cannot write ${join(out, "nodir", "x.tar")}: no such file or directory`],
    [["save", "-o", out, "app:v1"], 2, `podyard: error: cannot write ${out}: it is a directory`],
    [["save", "-o", join(out, "file", "x.tar"), "app:v1"], 2, `podyard: error: cannot write ${join(out, "file", "x.tar")}: not a directory`],
  ];
  for (const [args, code, line] of cases) assertFailure(await run(args), args, code, line);
  assert.deepEqual(await readdir(out), ["file"], "no temporary file is left");
});

void test("exit codes by kind: 3 not found (inspect, rmi), 5 unreachable", async (t) => {
  const nope = ["inspect", "nope"];
  assertFailure(await podyard(t, nope), nope, 3, "podyard: error: No such image: nope");
  const rmi = ["rmi", "nope", "other"];
  const removed = await podyard(t, rmi);
  assert.equal(removed.code, 3, describeRun("podyard", rmi, removed));
  assert.equal(removed.stderr, "podyard: error: No such image: nope\npodyard: error: No such image: other\n", "rmi goes on, one line per image, same prefix");
  const closed = `127.0.0.1:${await freePort()}`;
  const down = ["pull", "-q", `${closed}/app:v1`];
  const r = await podyard(t, down);
  assert.equal(r.code, 5, describeRun("podyard", down, r));
  assert.match(r.stderr, new RegExp(`^podyard: error: .*${closed}.*unreachable.*\\n$`), r.stderr);
});

void test("podyard login: a wrong password says the registry refused the credentials (exit 4); empty --password-stdin says so (exit 2)", async (t) => {
  const { line } = await htpasswdLine("alice", "wonderland");
  const reg = await startRegistry({ authorizer: new BasicAuthorizer({ htpasswd: Htpasswd.parse(line, { source: "test" }), realm: "podyard-test" }) });
  t.after(() => reg.close());
  const host = new URL(reg.url).host;

  const wrong = ["login", "--username", "alice", "--password-stdin", host];
  assertFailure(await podyard(t, wrong, "not-the-password\n"), wrong, 4,
    `podyard: error: login to ${host} failed: the registry refused the credentials for user "alice" (401 UNAUTHORIZED)`);

  const empty = ["login", "--username", "u", "--password-stdin", host];
  assertFailure(await podyard(t, empty, ""), empty, 2, "podyard: error: --password-stdin: standard input was empty");

  const ok = await podyard(t, wrong, "wonderland\n");
  assert.equal(ok.code, 0, describeRun("podyard", wrong, ok));
  assert.match(ok.stdout, /Login Succeeded/);
});

void test("help lists the exit codes and shows defaults as users type them", async (t) => {
  const top = await podyard(t, ["--help"]);
  assert.equal(top.code, 0, top.stderr);
  for (const row of [/^ {2}2 {2}usage:/m, /^ {2}3 {2}not found/m, /^ {2}4 {2}unauthorized/m, /^ {2}5 {2}unavailable/m, /^ {2}6 {2}conflict/m]) {
    assert.match(top.stdout, row);
  }
  assert.match(top.stdout, /^ {2}128\+N {2}ended by signal N: 130 \^C/m);
  assert.match(top.stdout, /--debug/);
  const serve = (await podyard(t, ["registry", "serve", "--help"])).stdout.replace(/\s+/g, " ");
  assert.match(serve, /--addr <host:port> address to listen on \(default: 127\.0\.0\.1:5000\)/);
  assert.match(serve, /the service name in tokens \(default: podyard-registry\)/);
  assert.doesNotMatch(serve, /"host"|"podyard-registry"/);
  const gc = (await podyard(t, ["registry", "gc", "--help"])).stdout.replace(/\s+/g, " ");
  assert.match(gc, /younger than this \(default: 1h\)/);
  assert.doesNotMatch(gc, /3600000/);
});
