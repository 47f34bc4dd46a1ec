/**
 * Checks the dependency rules of DESIGN.md and STYLE.md R12:
 * - a file imports another part only through that part's entry file (index.ts), whether by a
 *   static import, a re-export, a side-effect import or a dynamic `import()`;
 * - dependencies point down the layer order (cli → apiserver/kubelet → images/runtime →
 *   store/registry → oci/reference → clock/errdefs); no part imports one above it;
 * - no cycle runs between parts, not even between parts of one layer.
 * Exits 1 and lists every violation.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** The source tree to check: the first argument, default `src` (tests point it at small trees of their own). */
const SRC = resolve(process.argv[2] ?? "src");
const LAYER: Record<string, number> = {
  errdefs: 0, clock: 0, fsutil: 0, concurrency: 0, gofmt: 0,
  oci: 1, reference: 1, api: 1,
  store: 2, registry: 2,
  images: 3, runtime: 3,
  kubelet: 4, apiserver: 4, scheduler: 4,
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
/** part → the parts it imports, with one importing file for each, to name in a cycle */
const edges = new Map<string, Map<string, string>>();
for (const file of files(SRC)) {
  const text = readFileSync(file, "utf8");
  const from = partOf(file);
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)"(\.{1,2}\/[^"]+)"/gm)) {
    const spec = m[1] ?? "";
    const target = resolve(dirname(file), spec.replace(/\.js$/, ".ts"));
    if (!target.startsWith(SRC)) continue;
    const to = partOf(target);
    if (to === from) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from)?.has(to)) edges.get(from)?.set(to, relative(dirname(SRC), file));
    const where = `${relative(dirname(SRC), file)}: imports ${spec}`;
    if (target !== entryOf(to)) problems.push(`${where} (import ${to} only through ${relative(dirname(SRC), entryOf(to))})`);
    const lf = LAYER[from.split("/")[0] ?? ""];
    const lt = LAYER[to.split("/")[0] ?? ""];
    if (lf === undefined || lt === undefined) problems.push(`${where} (part ${lf === undefined ? from : to} has no place in the layer order)`);
    else if (lt > lf) problems.push(`${where} (${from} may not depend on ${to}, which sits above it)`);
  }
}
problems.push(...findCycles(edges));
if (problems.length > 0) {
  process.stderr.write(`dependency rules broken:\n${problems.map((p) => `  ${p}`).join("\n")}\n`);
  process.exit(1);
}
process.stdout.write("dependency rules hold\n");

/** Each import cycle between parts, once, as `a → b → a` with the file that makes each step. */
function findCycles(graph: Map<string, Map<string, string>>): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (part: string): void => {
    state.set(part, "open");
    path.push(part);
    for (const next of [...(graph.get(part)?.keys() ?? [])].sort()) {
      if (state.get(next) === "open") {
        const cycle = [...path.slice(path.indexOf(next)), next];
        const key = [...cycle.slice(0, -1)].sort().join(" ");
        if (!seen.has(key)) {
          seen.add(key);
          const steps = cycle.slice(0, -1).map((p, i) => `${p} → ${cycle[i + 1] ?? ""} (${graph.get(p)?.get(cycle[i + 1] ?? "") ?? "?"})`);
          found.push(`import cycle between parts: ${steps.join(", ")}`);
        }
      } else if (state.get(next) === undefined) visit(next);
    }
    path.pop();
    state.set(part, "done");
  };
  for (const part of [...graph.keys()].sort()) if (state.get(part) === undefined) visit(part);
  return found;
}
