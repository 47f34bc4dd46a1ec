/** portForward: a cheap stream to a port inside the pod's network namespace, telling a refused port from a connected one. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import type { Duplex } from "node:stream";
import { join } from "node:path";
import { isConnectionRefused, type OciRuntimeService } from "../../src/runtime/index.js";
import { forwardPort } from "../../src/runtime/port-forward.js";
import { cleanupSandbox, containerConfig, openRuntimeFixture, podConfig, type RuntimeFixture } from "./runtime-fixture.js";

let fx: RuntimeFixture;
before(async () => { fx = await openRuntimeFixture(); });
after(async () => { await fx.close(); });

/** Retries until the container's server listens. */
async function dial(rt: OciRuntimeService, sb: string, port: number): Promise<Duplex> {
  for (let i = 0; ; i++) {
    try {
      return await rt.portForward(sb, port);
    } catch (err) {
      if (i > 100 || !isConnectionRefused(err)) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function readAll(s: Duplex): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    s.on("data", (d: Buffer) => { text += d.toString(); });
    s.on("end", () => resolve(text));
    s.on("error", reject);
  });
}

async function children(): Promise<string[]> {
  const text = await readFile(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").catch(() => "");
  return text.trim().split(/\s+/).filter(Boolean);
}

test("a client's half-close reaches the server, whose answer still comes back", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  // the server answers only after reading to EOF
  const id = await rt.createContainer(sb, containerConfig(fx.image, "srv", { command: ["nc", "-lk", "-p", "8080", "-e", "sh", "-c", "wc -c"] }), pod);
  await rt.startContainer(id);
  const s = await dial(rt, sb, 8080);
  const answer = readAll(s);
  s.write("twelve bytes");
  s.end();
  assert.equal((await answer).trim(), "12");
});

test("a port nobody listens on is refused with ECONNREFUSED, and no forwarder is left behind", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const before = await children();
  const err = await rt.portForward(sb, 9).then(() => undefined, (e: unknown) => e);
  assert.ok(isConnectionRefused(err), `refused: ${String(err)}`);
  assert.match((err as Error).message, /connect ECONNREFUSED 127\.0\.0\.1:9$/);
  assert.equal(((err as Error).cause as NodeJS.ErrnoException).code, "ECONNREFUSED");
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await children(), before);
});

test("a connection that is destroyed early kills its forwarder; the server keeps serving others", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "srv", { command: ["nc", "-lk", "-p", "8080", "-e", "echo", "Hello from A"] }), pod);
  await rt.startContainer(id);
  const before = await children();
  const first = await dial(rt, sb, 8080);
  first.destroy();
  const texts = await Promise.all(Array.from({ length: 5 }, async () => readAll((await dial(rt, sb, 8080)).end())));
  assert.deepEqual(texts, Array(5).fill("Hello from A\n"));
  for (let i = 0; i < 50 && (await children()).length > before.length; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(await children(), before);
});

test("without the host's busybox a Node child forwards the same way: answers, half-close, ECONNREFUSED", async (t) => {
  const rt = await fx.newRuntime();
  const pod = podConfig();
  const sb = await rt.runPodSandbox(pod);
  cleanupSandbox(t, rt, sb);
  const id = await rt.createContainer(sb, containerConfig(fx.image, "srv", { command: ["nc", "-lk", "-p", "8080", "-e", "sh", "-c", "wc -c"] }), pod);
  await rt.startContainer(id);
  const netns = join(fx.node.home, "runtime", "sandboxes", sb, "ns", "net");
  await dial(rt, sb, 8080).then((s) => s.destroy());
  const s = await forwardPort(netns, 8080, { useBusybox: false });
  const answer = readAll(s);
  s.end("five!");
  assert.equal((await answer).trim(), "5");
  const err = await forwardPort(netns, 9, { useBusybox: false }).then(() => undefined, (e: unknown) => e);
  assert.ok(isConnectionRefused(err), String(err));
});
