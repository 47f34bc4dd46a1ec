/** A pull killed with SIGKILL at any point, then pulled again: it completes, fsck is clean, a prune leaves nothing. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startRegistry } from "../helpers/registry.js";
import { walkTree } from "../helpers/registry-process.js";
import { buildTestImage, openTestNode, pushLayout } from "../helpers/images.js";

const BIN = fileURLToPath(new URL("../../bin/podyard.js", import.meta.url));

function run(args: string[], env: NodeJS.ProcessEnv, killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = killAfterMs !== undefined ? setTimeout(() => child.kill("SIGKILL"), killAfterMs) : undefined;
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

/** The files (not directories) under `dir`. */
async function files(dir: string): Promise<string[]> {
  return (await walkTree(dir)).filter((p) => !p.endsWith("/"));
}

test("SIGKILL during pulls, then a full pull: complete, fsck clean, nothing orphaned after rmi", async () => {
  const reg = await startRegistry();
  const layers = [1, 2, 3].map((i) => ({ entries: [{ type: "file" as const, path: `data/blob${i}`, content: randomBytes(6 * 1024 * 1024), mode: 0o644 }], createdBy: `layer ${i}` }));
  const image = await buildTestImage({ extraLayers: layers });
  const node = await openTestNode();
  node.env.close();
  try {
    const host = new URL(reg.url).host;
    await pushLayout(reg.url, "faults/big", "v1", image);
    const env = { PODYARD_HOME: node.home };
    const ref = `${host}/faults/big:v1`;
    const killed: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = 150 + Math.floor(Math.random() * 900);
      const r = await run(["pull", ref], env, at);
      if (r.signal === "SIGKILL") killed.push(at);
    }
    const full = await run(["pull", ref], env);
    assert.equal(full.code, 0, full.out);
    assert.match(full.out, new RegExp(`Digest: ${image.manifestDescriptor.digest}`));
    const check = await run(["fsck"], env);
    assert.equal(check.code, 0, check.out);
    assert.match(check.out, /0 problem\(s\)/, check.out);
    assert.match(check.out, /checked 6 blobs, 1 images, 4 snapshots/, check.out);

    const rmi = await run(["rmi", ref], env);
    assert.equal(rmi.code, 0, rmi.out);
    assert.deepEqual(await files(join(node.home, "content", "blobs")), [], "no blob left");
    assert.deepEqual(await files(join(node.home, "content", "ingest")), [], "no ingest left");
    assert.deepEqual((await files(join(node.home, "snapshots"))).filter((f) => !f.endsWith(".json")), [], "no snapshot files left");
    process.stdout.write(`# pulls killed at ${killed.join(", ")} ms\n`);
  } finally {
    await reg.close();
    await image.cleanup();
    await node.close().catch(() => undefined);
  }
});

test("two podyard processes pulling into one home take turns and both succeed", async () => {
  const reg = await startRegistry();
  const image = await buildTestImage();
  const node = await openTestNode();
  node.env.close();
  try {
    const host = new URL(reg.url).host;
    await pushLayout(reg.url, "faults/shared", "a", image);
    await pushLayout(reg.url, "faults/shared", "b", image);
    const env = { PODYARD_HOME: node.home };
    const [a, b] = await Promise.all([run(["pull", `${host}/faults/shared:a`], env), run(["pull", `${host}/faults/shared:b`], env)]);
    assert.equal(a.code, 0, a.out);
    assert.equal(b.code, 0, b.out);
    const check = await run(["fsck"], env);
    assert.match(check.out, /checked 3 blobs, 2 images, 1 snapshots: 0 problem\(s\)/, check.out);
  } finally {
    await reg.close();
    await image.cleanup();
    await node.close().catch(() => undefined);
  }
});
