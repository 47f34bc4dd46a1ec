// Builds the podyard command into dist/: src/cli/main.ts and the layer-extraction worker
// bundled by esbuild into a few ES modules (each command's code in its own chunk, loaded
// when the command runs), so start-up reads a handful of files instead of ~150. Types are
// checked by `npm test` (tsc --noEmit), not here. bin/podyard.js runs dist/main.js while
// dist/.built is newer than every source file.
// Usage: tsx scripts/build.ts [OUTDIR]   (default: dist)
import { rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The entry points every build has: the CLI, and the worker thread the CLI starts by path. */
export const ENTRY_POINTS: Record<string, string> = {
  main: join(ROOT, "src", "cli", "main.ts"),
  // found beside whichever chunk holds worker-applier.ts: chunks and entries share one directory
  "apply-worker": join(ROOT, "src", "store", "diff", "apply-worker.ts"),
};

/**
 * Bundles `entryPoints` (name → source) into `outdir`, all outputs side by side.
 */
export async function buildPodyard(outdir: string, entryPoints: Record<string, string> = ENTRY_POINTS): Promise<void> {
  await rm(outdir, { recursive: true, force: true });
  await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // error classes name themselves after their constructor (errdefs): keep names as written
    keepNames: true,
    // Pure-JS packages are bundled too (commander alone costs ~20 ms to load as separate
    // files); better-sqlite3 is native and stays in node_modules. CommonJS code in the
    // bundle requires Node's built-ins through the `require` the banner defines.
    external: ["better-sqlite3", "@lydell/node-pty"],
    banner: { js: 'import { createRequire as __podyardRequire } from "node:module";\nconst require = __podyardRequire(import.meta.url);' },
    entryNames: "[name]",
    chunkNames: "[name]-[hash]",
    logLevel: "warning",
  });
  await writeFile(join(outdir, ".built"), "");
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildPodyard(resolve(process.argv[2] ?? join(ROOT, "dist")));
}
