/** After the agent is SIGKILLed, a new runtime over the same home adopts its running container and records the exit of the one that ended meanwhile. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { openNodeEnv } from "../../src/cli/node-env.js";
import { OciRuntimeService } from "../../src/runtime/index.js";
import { buildTestImage, pushLayout } from "../helpers/images.js";
import { startRegistry } from "../helpers/registry.js";
import { RUNTIME } from "./runtime-fixture.js";

test("containers outlive a SIGKILLed agent: the running one is adopted, the exited one keeps its code and logs", async (t) => {
  // cleanups run last registered first: the home goes after the sandbox in it
  const cleanups: (() => Promise<unknown> | void)[] = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const reg = await startRegistry();
  cleanups.push(() => reg.close());
  const built = await buildTestImage();
  cleanups.push(() => built.cleanup());
  await pushLayout(reg.url, "pods/busybox", "v1", built);
  const image = `${new URL(reg.url).host}/pods/busybox:v1`;
  const home = await mkdtemp(join(tmpdir(), "podyard-restart-"));
  cleanups.push(() => rm(home, { recursive: true, force: true }));
  const first = await openNodeEnv({ home });
  await first.imageService.pull(image);
  first.close();

  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "fixtures", "start-pod.ts"), home, image, RUNTIME], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`start-pod exited with ${code}`)));
  });
  const ids = JSON.parse(line) as { sb: string; runner: string; done: string };
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));

  const env = await openNodeEnv({ home });
  cleanups.push(() => env.close());
  // the short-lived container ends while no agent runs
  const exitFile = join(home, "runtime", "exits", ids.done);
  while ((await readFile(exitFile, "utf8").catch(() => "")) === "") await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  const rt = new OciRuntimeService({ home, runtime: RUNTIME, images: env.imageService, snapshotter: env.snapshotter });
  await rt.init();
  cleanups.push(async () => {
    await rt.removePodSandbox(ids.sb);
    rt.close();
  });
  const done = (await rt.containerStatus(ids.done)).status;
  assert.deepEqual([done.state, done.exitCode, done.reason], ["CONTAINER_EXITED", 4, "Error"]);
  const exitedAt = BigInt(Math.round((await stat(exitFile)).mtimeMs)) * 1_000_000n;
  assert.equal(done.finishedAt, exitedAt, "finished when it exited, not when the new agent noticed");
  assert.match(await readFile(done.logPath, "utf8"), /stdout F bye\n/);
  const runner = (await rt.containerStatus(ids.runner)).status;
  assert.equal(runner.state, "CONTAINER_RUNNING");
  assert.equal((await rt.execSync(ids.runner, ["cat", "/proc/1/cmdline"], 10)).stdout.toString(), "sleep\u00003600\u0000", "the same process, not restarted");
  await rt.stopContainer(ids.runner, 0);
  assert.equal((await rt.containerStatus(ids.runner)).status.exitCode, 137);
});
