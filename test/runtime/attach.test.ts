/** attach with stdin, through conmon's attach socket: input reaches the container, stdout and stderr come back apart, stdinOnce ends its stdin. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import type { OciRuntimeService } from "../../src/runtime/index.js";
import { cleanupSandbox, containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = "";
  stream.on("data", (d: Buffer) => { text += d.toString(); });
  return { stream, text: () => text };
}

async function until(what: () => boolean, label: string): Promise<void> {
  for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(what(), label);
}

async function waitExit(rt: OciRuntimeService, id: string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const st = (await rt.containerStatus(id)).status;
    if (st.state === "CONTAINER_EXITED") return st.exitCode;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`container ${id} did not exit`);
}

test("stdinOnce: what the client types reaches the container; its stdout and stderr come back apart; closing stdin is the container's EOF", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "reader", {
    command: ["sh", "-c", "while read line; do echo \"out $line\"; echo \"err $line\" >&2; done; echo eof; exit 7"], stdin: true, stdinOnce: true,
  }), pod);
  await rt.startContainer(id);
  const stdin = new PassThrough();
  const out = collect();
  const err = collect();
  const attached = rt.attach({ containerId: id, stdin: true, tty: false, stdout: true, stderr: true }, { tty: false, stdin, stdout: out.stream, stderr: err.stream });
  stdin.write("one\n");
  await until(() => out.text() === "out one\n" && err.text() === "err one\n", `echoed: ${out.text()} | ${err.text()}`);
  stdin.write("two\n");
  stdin.end();
  await attached;
  assert.equal(out.text(), "out one\nout two\neof\n");
  assert.equal(err.text(), "err one\nerr two\n");
  assert.equal(await waitExit(rt, id), 7);
});

test("without stdinOnce the container's stdin stays open when a client leaves, for the next attach", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "cat", { command: ["cat"], stdin: true }), pod);
  await rt.startContainer(id);
  for (const word of ["first", "second"]) {
    const stdin = new PassThrough();
    const out = collect();
    const attached = rt.attach({ containerId: id, stdin: true, tty: false, stdout: true, stderr: true }, { tty: false, stdin, stdout: out.stream, stderr: out.stream });
    stdin.write(`${word}\n`);
    await until(() => out.text() === `${word}\n`, `got ${JSON.stringify(out.text())}`);
    // the client goes away (its output stream closes)
    out.stream.destroy();
    await attached;
    assert.equal((await rt.containerStatus(id)).status.state, "CONTAINER_RUNNING");
  }
});

test("a TTY container: keystrokes reach its shell, the terminal's output and the exit come back", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "shell", { command: ["sh"], stdin: true, stdinOnce: true, tty: true }), pod);
  await rt.startContainer(id);
  const stdin = new PassThrough();
  const out = collect();
  const sizes = new PassThrough({ objectMode: true });
  const attached = rt.attach({ containerId: id, stdin: true, tty: true, stdout: true, stderr: false }, { tty: true, stdin, stdout: out.stream, resize: sizes });
  sizes.write({ width: 123, height: 45 });
  await new Promise((r) => setTimeout(r, 100));
  stdin.write("echo $((6*7)); stty size; tty; exit 3\n");
  await attached;
  sizes.end();
  assert.match(out.text(), /\r\n42\r\n45 123\r\n\/dev\/pts\/\d+\r\n/);
  assert.equal(await waitExit(rt, id), 3);
});

test("a client attached without stdin leaves a stdinOnce container's stdin open for the one that types", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "waiter", { command: ["sh", "-c", "echo ready; read x; echo got $x"], stdin: true, stdinOnce: true }), pod);
  await rt.startContainer(id);
  const watcher = collect();
  const watching = rt.attach({ containerId: id, stdin: false, tty: false, stdout: true, stderr: true }, { tty: false, stdout: watcher.stream, stderr: watcher.stream });
  await new Promise((r) => setTimeout(r, 200));
  watcher.stream.destroy();
  await watching;
  assert.equal((await rt.containerStatus(id)).status.state, "CONTAINER_RUNNING");
  const stdin = new PassThrough();
  const out = collect();
  const typing = rt.attach({ containerId: id, stdin: true, tty: false, stdout: true, stderr: true }, { tty: false, stdin, stdout: out.stream, stderr: out.stream });
  stdin.write("hi\n");
  await typing;
  assert.equal(out.text(), "got hi\n");
  assert.equal(await waitExit(rt, id), 0);
});
