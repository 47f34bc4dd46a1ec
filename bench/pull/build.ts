// Compiles podyard (src/ and bench/) with the project's tsc into a temp dir, so the `-js` workloads run
// plain JavaScript as an installed podyard would, without tsx's loader thread and transform cache. The
// output sits in `<dir>/dist` beside a `node_modules` symlink to the repository's and a package.json of
// type module, so its imports resolve as they do from the sources. Type errors elsewhere in the tree (files
// being edited) do not stop tsc from emitting; only missing entry points count as a failure.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Build {
  /** The emitted tree: `src/cli/main.js`, `bench/pull/download-only.js`, ... */
  readonly dist: string;
  readonly ms: number;
  /** How many errors tsc reported (it emits regardless). */
  readonly typeErrors: number;
}

export async function compile(repoRoot: string, dir: string): Promise<Build> {
  await mkdir(dir, { recursive: true });
  await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
  const dist = join(dir, "dist");
  const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const t0 = performance.now();
  let output = "";
  try {
    await run(process.execPath, [tsc, "-p", join(repoRoot, "tsconfig.json"), "--outDir", dist, "--noEmit", "false"], {
      cwd: repoRoot,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    output = `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message;
  }
  const ms = performance.now() - t0;
  const typeErrors = (output.match(/error TS\d+/g) ?? []).length;
  for (const entry of [join("src", "cli", "main.js"), join("bench", "pull", "download-only.js"), join("bench", "pull", "memory-probe.js")]) {
    if (!existsSync(join(dist, entry))) {
      throw new Error(`tsc emitted no ${entry}${output === "" ? "" : `: ${output.trim().split("\n").slice(0, 10).join("\n")}`}`);
    }
  }
  return { dist, ms, typeErrors };
}
