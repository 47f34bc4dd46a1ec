// scripts/check-deps.ts on small source trees: what it must refuse, and what it lets pass.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const SCRIPT = new URL("../../scripts/check-deps.ts", import.meta.url).pathname;

/** Writes `files` (path → text) under a new src/ and runs the check on it. */
async function check(files: Record<string, string>): Promise<{ code: number; out: string }> {
  const root = await mkdtemp(join(tmpdir(), "podyard-check-deps-"));
  try {
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, "src", path)), { recursive: true });
      await writeFile(join(root, "src", path), text);
    }
    try {
      const { stdout } = await run(process.execPath, ["--import", "tsx", SCRIPT, join(root, "src")]);
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code: number; stderr: string };
      return { code: e.code, out: e.stderr };
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

test("check-deps: imports through entry files, down the layers, pass", async () => {
  const r = await check({
    "errdefs/index.ts": "export const a = 1;\n",
    "oci/index.ts": 'export { b } from "./b.js";\n',
    "oci/b.ts": 'import { a } from "../errdefs/index.js";\nexport const b = a;\n',
    "cli/main.ts": 'export const load = async () => import("../oci/index.js");\n',
  });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /dependency rules hold/);
});

test("check-deps: an import of another part's internals fails, static or dynamic", async () => {
  const r = await check({
    "oci/index.ts": 'export { b } from "./b.js";\n',
    "oci/b.ts": "export const b = 1;\n",
    "cli/main.ts": 'import { b } from "../oci/b.js";\nexport const load = async () => import("../oci/b.js");\nexport { b };\n',
  });
  assert.equal(r.code, 1);
  assert.match(r.out, /src\/cli\/main\.ts: imports \.\.\/oci\/b\.js \(import oci only through src\/oci\/index\.ts\)/);
});

test("check-deps: an import up the layer order fails", async () => {
  const r = await check({
    "oci/index.ts": 'import "../images/index.js";\n',
    "images/index.ts": "export const i = 1;\n",
  });
  assert.equal(r.code, 1);
  assert.match(r.out, /oci may not depend on images, which sits above it/);
});

test("check-deps: an import cycle between parts of one layer fails, naming each step", async () => {
  const r = await check({
    "oci/index.ts": 'export { r } from "../reference/index.js";\n',
    "reference/index.ts": 'import { o } from "../oci/o.js";\nexport const r = o;\n',
    "oci/o.ts": "export const o = 1;\n",
  });
  assert.equal(r.code, 1);
  assert.match(r.out, /import cycle between parts: oci → reference \(src\/oci\/index\.ts\), reference → oci \(src\/reference\/index\.ts\)/);
});
