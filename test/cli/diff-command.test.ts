/**
 * `podyard diff POD [-c CONTAINER] [-n NAMESPACE] [--home DIR]` against real pods made with
 * OciRuntimeService: docker diff's lines, and the errors (with main.ts's exit codes) for a pod that
 * is not there, a pod of several containers without -c, and a container the pod does not have.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CommanderError } from "commander";
import { diffCommand } from "../../src/cli/diff-command.js";
import { errorReport } from "../../src/cli/error-line.js";
import { EXIT_CODES, exitCodeFor } from "../../src/cli/exit-codes.js";
import type { OciRuntimeService } from "../../src/runtime/index.js";
import { containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "../runtime/runtime-fixture.js";

let fx: RuntimeFixture;
let rt: OciRuntimeService;
before(async () => {
  fx = await openRuntimeFixture();
  rt = await fx.newRuntime();
});
after(async () => { await fx.close(); });

interface Run { code: number; stdout: string; stderr: string }

/** The command as main.ts runs it: output, and a failure's one line and exit code. */
async function podyardDiff(args: string[]): Promise<Run> {
  let stdout = "";
  const cmd = diffCommand({ write: (s: string) => (stdout += s) }).exitOverride().configureOutput({ writeErr: () => undefined });
  try {
    await cmd.parseAsync(args, { from: "user" });
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    if (err instanceof CommanderError) return { code: EXIT_CODES.usage, stdout, stderr: err.message };
    return { code: exitCodeFor(err), stdout, stderr: errorReport(err, false) };
  }
}

async function runningPod(names: string[], namespace = "default"): Promise<{ pod: string; ids: string[] }> {
  const config = podConfig();
  config.metadata.namespace = namespace;
  const sb = await rt.runPodSandbox(config);
  const ids: string[] = [];
  for (const name of names) {
    const id = await rt.createContainer(sb, containerConfig(fx.image, name, { command: ["sleep", "3600"] }), config);
    await rt.startContainer(id);
    ids.push(id);
  }
  return { pod: config.metadata.name, ids };
}

test("prints what the container added, changed and deleted, one docker diff line each, by path", async () => {
  const { pod, ids } = await runningPod(["web"]);
  const r0 = await podyardDiff([pod, "--home", fx.node.home]);
  assert.deepEqual(r0, { code: 0, stdout: "", stderr: "" }, "a fresh container has no changes");
  await rt.execSync(ids[0] ?? "", ["sh", "-c", "echo hi > /tmp/new; echo more >> /etc/passwd; rm /etc/group; mkdir /data"], 10);
  const r = await podyardDiff([pod, "--home", fx.node.home]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "A /data\nC /etc\nD /etc/group\nC /etc/passwd\nC /tmp\nA /tmp/new\n");
  // pod/NAME as kubectl writes it; -c naming the only container; PODYARD_HOME instead of --home
  const saved = process.env.PODYARD_HOME;
  process.env.PODYARD_HOME = fx.node.home;
  try {
    assert.deepEqual(await podyardDiff([`pod/${pod}`, "-c", "web"]), r);
  } finally {
    if (saved === undefined) delete process.env.PODYARD_HOME;
    else process.env.PODYARD_HOME = saved;
  }
  // still there once the container exited
  await rt.stopContainer(ids[0] ?? "", 0);
  assert.deepEqual(await podyardDiff([pod, "--home", fx.node.home]), r);
});

test("a pod of several containers needs -c: the error names them, exit 2; -c picks one", async () => {
  const { pod, ids } = await runningPod(["container-a", "container-b"], "tools");
  await rt.execSync(ids[1] ?? "", ["touch", "/only-b"], 10);
  const r = await podyardDiff([pod, "-n", "tools", "--home", fx.node.home]);
  assert.equal(r.code, EXIT_CODES.usage);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, `podyard: error: a container name must be specified for pod ${pod}, choose one of: [container-a container-b] with -c\n`);
  assert.deepEqual(await podyardDiff([pod, "-n", "tools", "-c", "container-b", "--home", fx.node.home]), { code: 0, stdout: "A /only-b\n", stderr: "" });
  assert.deepEqual(await podyardDiff([pod, "--namespace", "tools", "--container", "container-a", "--home", fx.node.home]), { code: 0, stdout: "", stderr: "" });
  const wrong = await podyardDiff([pod, "-n", "tools", "-c", "nope", "--home", fx.node.home]);
  assert.deepEqual(wrong, { code: EXIT_CODES.notFound, stdout: "", stderr: `podyard: error: container nope is not valid for pod ${pod}, choose one of: [container-a container-b]\n` });
});

test("a pod not on this node (or in another namespace) is not found, exit 3; no pod argument is a usage error", async () => {
  const { pod } = await runningPod(["web"]);
  assert.deepEqual(await podyardDiff(["nothing-here", "--home", fx.node.home]), {
    code: EXIT_CODES.notFound, stdout: "", stderr: `podyard: error: pod "nothing-here" not found in namespace "default" on this node\n`,
  });
  assert.deepEqual(await podyardDiff([pod, "-n", "other", "--home", fx.node.home]), {
    code: EXIT_CODES.notFound, stdout: "", stderr: `podyard: error: pod "${pod}" not found in namespace "other" on this node\n`,
  });
  const usage = await podyardDiff(["--home", fx.node.home]);
  assert.equal(usage.code, EXIT_CODES.usage);
  assert.match(usage.stderr, /missing required argument 'pod'/);
});
