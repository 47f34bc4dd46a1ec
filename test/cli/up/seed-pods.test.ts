import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { SEED_PODS } from "../../../src/cli/tutorial/seed-pods.js";

const SEED_DIR = new URL("../../../../shared/seed/", import.meta.url);

test("the tutorial's pods are the seed YAML files, unchanged", (t) => {
  if (!existsSync(SEED_DIR)) {
    process.stderr.write(`seed-pods.test.ts: skipping: no seed directory at ${SEED_DIR.pathname}\n`);
    t.skip("no ../shared/seed");
    return;
  }
  for (const [name, text] of Object.entries(SEED_PODS)) assert.equal(text, readFileSync(new URL(name, SEED_DIR), "utf8"), name);
});
