import assert from "node:assert/strict";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { readTerminationMessage } from "../../../src/kubelet/container-config/index.js";
import { tempDir } from "./fixtures.js";

test("the file's last 4096 bytes are the message", async (t) => {
  const d = await tempDir(t);
  const file = join(d, "abcd1234");
  await writeFile(file, "a".repeat(100) + "b".repeat(4096));
  assert.equal(await readTerminationMessage({ hostPath: file, exitCode: 1 }), "b".repeat(4096));
  await writeFile(file, "bye");
  assert.equal(await readTerminationMessage({ hostPath: file, exitCode: 0 }), "bye");
  assert.equal(await readTerminationMessage({ hostPath: join(d, "missing"), exitCode: 0 }), "");
  assert.equal(await readTerminationMessage({ hostPath: undefined, exitCode: 0 }), "");
});

test("FallbackToLogsOnError: an empty or missing file on a failed exit gives the log's last 80 lines, at most 2048 bytes", async (t) => {
  const d = await tempDir(t);
  const file = join(d, "abcd1234");
  await writeFile(file, "");
  const log = join(d, "0.log");
  await writeFile(log, Array.from({ length: 100 }, (_, i) => `2026-12-03T10:00:00Z stderr F line ${i}\n`).join(""));
  const want = Array.from({ length: 80 }, (_, i) => `line ${i + 20}\n`).join("");
  assert.equal(await readTerminationMessage({ hostPath: file, policy: "FallbackToLogsOnError", exitCode: 2, logPath: log }), want);
  assert.equal(await readTerminationMessage({ hostPath: join(d, "missing"), policy: "FallbackToLogsOnError", exitCode: 2, logPath: log }), want);
  // Exit 0, a non-empty file, or ContainerCannotRun: no fallback.
  assert.equal(await readTerminationMessage({ hostPath: file, policy: "FallbackToLogsOnError", exitCode: 0, logPath: log }), "");
  assert.equal(await readTerminationMessage({ hostPath: file, policy: "FallbackToLogsOnError", exitCode: 2, reason: "ContainerCannotRun", logPath: log }), "");
  await writeFile(file, "own words");
  assert.equal(await readTerminationMessage({ hostPath: file, policy: "FallbackToLogsOnError", exitCode: 2, logPath: log }), "own words");
  // Long lines: only the last 2048 bytes.
  await writeFile(log, `2026-12-03T10:00:00Z stdout F ${"x".repeat(3000)}\n2026-12-03T10:00:01Z stdout F end\n`);
  const got = await readTerminationMessage({ hostPath: undefined, policy: "FallbackToLogsOnError", exitCode: 1, logPath: log });
  assert.equal(got, "x".repeat(2043) + "\nend\n");
});

test("an unreadable file gives the kubelet's error text", { skip: process.getuid?.() === 0 ? false : "needs a directory in place of the file" }, async (t) => {
  const d = await tempDir(t);
  const file = join(d, "abcd1234");
  await mkdir(file);
  await chmod(file, 0o755);
  assert.match(await readTerminationMessage({ hostPath: file, exitCode: 1 }), new RegExp(`^Error on reading termination log ${file}: EISDIR`));
});
