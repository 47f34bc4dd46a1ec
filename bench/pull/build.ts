// Builds podyard for the `-js` workloads the way `npm run build` does (scripts/build.ts: esbuild
// bundles, as an installed podyard runs them), into a temp dir, with the benchmark's own entry points
// (download-only.ts, memory-probe.ts) bundled beside the CLI. The output sits in `<dir>/dist` beside
// a `node_modules` symlink to the repository's, so the packages it leaves external resolve as from the
// sources. Types are not checked here (npm test does that).
import { existsSync } from "node:fs";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ENTRY_POINTS, buildPodyard } from "../../scripts/build.js";

export interface Build {
  /** The bundled tree: `main.js` (the CLI), `download-only.js`, `memory-probe.js`, ... */
  readonly dist: string;
  readonly ms: number;
}

export async function compile(repoRoot: string, dir: string): Promise<Build> {
  await mkdir(dir, { recursive: true });
  await symlink(join(repoRoot, "node_modules"), join(dir, "node_modules"), "dir");
  await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
  const dist = join(dir, "dist");
  const t0 = performance.now();
  await buildPodyard(dist, {
    ...ENTRY_POINTS,
    "download-only": join(repoRoot, "bench", "pull", "download-only.ts"),
    "memory-probe": join(repoRoot, "bench", "pull", "memory-probe.ts"),
  });
  const ms = performance.now() - t0;
  for (const entry of ["main.js", "download-only.js", "memory-probe.js"]) {
    if (!existsSync(join(dist, entry))) throw new Error(`the build emitted no ${entry}`);
  }
  return { dist, ms };
}
