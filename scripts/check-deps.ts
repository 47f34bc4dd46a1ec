/**
 * Checks the dependency rules of DESIGN.md and STYLE.md R12:
 * - a file imports another part only through that part's entry file (index.ts);
 * - dependencies point down the layer order (cli → apiserver/kubelet → images/runtime →
 *   store/registry → oci/reference → clock/errdefs); no part imports one above it.
 * Exits 1 and lists every violation.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

const SRC = resolve("src");
const LAYER: Record<string, number> = {
  errdefs: 0, clock: 0, fsutil: 0, concurrency: 0,
  oci: 1, reference: 1,
  store: 2, registry: 2,
  images: 3, runtime: 3,
  kubelet: 4, apiserver: 4,
  cli: 5,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** The part a source file belongs to; registry/client and registry/server are parts of their own. */
function partOf(file: string): string {
  const segs = relative(SRC, file).split(sep);
  if (segs[0] === "registry" && (segs[1] === "client" || segs[1] === "server" || segs[1] === "api")) return `registry/${segs[1]}`;
  return segs[0] ?? "";
}

function entryOf(part: string): string {
  return join(SRC, ...part.split("/"), "index.ts");
}

const problems: string[] = [];
for (const file of files(SRC)) {
  const text = readFileSync(file, "utf8");
  const from = partOf(file);
  for (const m of text.matchAll(/\bfrom\s+"(\.{1,2}\/[^"]+)"/g)) {
    const spec = m[1] ?? "";
    const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
    if (!target.startsWith(SRC)) continue;
    const to = partOf(target);
    if (to === from) continue;
    const where = `${relative(".", file)}: imports ${spec}`;
    const sameFamily = from.startsWith("registry/") && to.startsWith("registry/");
    if (target !== entryOf(to) && !(sameFamily && to === "registry/api")) problems.push(`${where} (import ${to} only through ${relative(".", entryOf(to))})`);
    const lf = LAYER[from.split("/")[0] ?? ""];
    const lt = LAYER[to.split("/")[0] ?? ""];
    if (lf === undefined || lt === undefined) problems.push(`${where} (part ${lf === undefined ? from : to} has no place in the layer order)`);
    else if (lt > lf) problems.push(`${where} (${from} may not depend on ${to}, which sits above it)`);
  }
}
if (problems.length > 0) {
  process.stderr.write(`dependency rules broken:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
  process.exit(1);
}
process.stdout.write("dependency rules hold\n");
