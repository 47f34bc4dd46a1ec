import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SEED_PODS } from "../../../src/cli/tutorial/seed-pods.js";
import { TUTORIAL_PODS_DIR } from "../../helpers/tutorial-pods.js";

/** The tutorial's own seed, beside the repository on the machine podyard was built on (absent on a bare clone). */
const SEED_DIR = fileURLToPath(new URL("../../../../shared/seed/", import.meta.url));

test("podyard tutorial applies the vendored tutorial pods, byte for byte", () => {
  const vendored = readdirSync(TUTORIAL_PODS_DIR).filter((f) => f.endsWith(".yaml")).sort();
  assert.deepEqual(vendored, Object.keys(SEED_PODS).sort());
  for (const [name, text] of Object.entries(SEED_PODS)) assert.equal(text, readFileSync(join(TUTORIAL_PODS_DIR, name), "utf8"), name);
});

test("the vendored tutorial pods are the seed YAML files, unchanged", (t) => {
  if (!existsSync(SEED_DIR)) {
    process.stderr.write(`seed-pods.test.ts: skipping the comparison with the tutorial's seed: no seed directory at ${SEED_DIR}\n`);
    t.skip(`no seed directory at ${SEED_DIR}`);
    return;
  }
  const seeds = readdirSync(SEED_DIR).filter((f) => f.endsWith(".yaml")).sort();
  assert.deepEqual(readdirSync(TUTORIAL_PODS_DIR).filter((f) => f.endsWith(".yaml")).sort(), seeds, "every seed pod is vendored");
  for (const name of seeds) assert.ok(readFileSync(join(TUTORIAL_PODS_DIR, name)).equals(readFileSync(join(SEED_DIR, name))), name);
});
