#!/usr/bin/env -S node --max-semi-space-size=2 --heap-growing-percent=50
// The `podyard` command. Runs the bundled CLI (dist/, made by `npm run build`) when it
// is newer than every source file and directory, else the TypeScript sources through
// tsx, so an edit to src/ (or a file added, removed or renamed there) is never hidden
// by a stale build. The `#!` line carries the agent's V8 heap flags (src/cli/up/agent-heap.ts
// AGENT_NODE_FLAGS, which a test keeps equal): only the command line can cap the young generation.
import { readdirSync, statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * True when `dir`, or anything under it, was modified after `since` (a file that
 * vanishes mid-walk counts as a change). Stops at the first one: a stale build needs no
 * full walk.
 */
function changedSince(dir, since) {
  if (statSync(dir).mtimeMs > since) return true;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory() ? changedSince(p, since) : !(statSync(p, { throwIfNoEntry: false })?.mtimeMs <= since)) return true;
  }
  return false;
}

const built = statSync(join(root, "dist", ".built"), { throwIfNoEntry: false });
if (built !== undefined && !changedSince(join(root, "src"), built.mtimeMs)) {
  await import(pathToFileURL(join(root, "dist", "main.js")).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
