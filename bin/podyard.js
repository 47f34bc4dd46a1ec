#!/usr/bin/env node
// The `podyard` command. Runs the compiled CLI (dist/, made by `npm run build`) when it
// is newer than every source file, else the TypeScript sources through tsx, so an edit
// to src/ is never hidden by a stale build.
import { existsSync, readdirSync, statSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const stamp = join(root, "dist", ".built");

function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

const compiledIsFresh = existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource(join(root, "src"));
if (compiledIsFresh) {
  await import(pathToFileURL(join(root, "dist", "cli", "main.js")).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
