// The agent's V8 heap flags: the same on every path that starts it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { AGENT_NODE_FLAGS, withAgentFlags } from "../../../src/cli/up/agent-heap.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..", "..");

test("bin/podyard.js starts node with the agent's heap flags", async () => {
  const first = (await readFile(join(ROOT, "bin", "podyard.js"), "utf8")).split("\n")[0];
  assert.equal(first, `#!/usr/bin/env -S node ${AGENT_NODE_FLAGS.join(" ")}`);
});

test("up -d's child gets the flags it lacks and keeps the ones given", () => {
  assert.deepEqual(withAgentFlags([]), [...AGENT_NODE_FLAGS]);
  assert.deepEqual(withAgentFlags(["--max-semi-space-size=8", "--import", "tsx"]),
    ["--heap-growing-percent=50", "--max-semi-space-size=8", "--import", "tsx"]);
  assert.deepEqual(withAgentFlags([...AGENT_NODE_FLAGS]), [...AGENT_NODE_FLAGS]);
});

test("a node started with the flags keeps its young generation at 2 x 2 MiB under load", async () => {
  const script = `const v8 = require("node:v8"); let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 20000) keep = []; }
    console.log(v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size);`;
  const { stdout } = await run(process.execPath, [...AGENT_NODE_FLAGS, "-e", script]);
  assert.ok(Number(stdout) <= 4.3e6, `new space ${stdout.trim()} bytes`);
});
