import { test } from "node:test";
import assert from "node:assert/strict";
import { runTutorial } from "../../src/cli/tutorial/run-tutorial.js";

test("the main job pushes the busybox image and pulls it back by digest, byte-identical", async () => {
  const lines: string[] = [];
  await runTutorial({ keep: false, out: (l) => lines.push(l) });
  const text = lines.join("\n");
  const pushed = /latest: digest: (sha256:[a-f0-9]{64}) size: \d+/.exec(text)?.[1];
  assert.ok(pushed, text);
  assert.match(text, new RegExp(`Pulling 127\\.0\\.0\\.1:\\d+/tutorial/busybox@${pushed}`));
  assert.match(text, new RegExp(`Digest: ${pushed}`));
  assert.equal(lines.filter((l) => l.includes("Pull complete") && l.includes("digest verified")).length, 2);
  assert.match(text, /byte-identical to what was pushed/);
  const workDir = /storage (\S+)\/registry/.exec(text)?.[1];
  assert.ok(workDir);
  const { existsSync } = await import("node:fs");
  assert.equal(existsSync(workDir), false, "the temporary registry and image are removed");
});
