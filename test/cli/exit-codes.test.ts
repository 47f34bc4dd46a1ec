import { test } from "node:test";
import assert from "node:assert/strict";
import { ERROR_CLASSES, newError } from "../../src/errdefs/index.js";
import { EXIT_CODES, EXIT_CODES_HELP, exitCodeFor } from "../../src/cli/exit-codes.js";

test("every error class exits with a documented code; foreign errors exit 1", () => {
  const documented = new Set([...EXIT_CODES_HELP.matchAll(/^ {2}(\d+) {2}/gm)].map((m) => Number(m[1])));
  for (const cls of ERROR_CLASSES) {
    const code = exitCodeFor(new Error("wrapped", { cause: newError(cls, "x") }));
    assert.ok(documented.has(code), `${cls} → ${code} is in the help table`);
    assert.notEqual(code, 0, cls);
  }
  for (const code of Object.values(EXIT_CODES)) assert.ok(documented.has(code), `exit ${code} is documented`);
  assert.equal(exitCodeFor(new Error("plain")), EXIT_CODES.general);
  assert.equal(exitCodeFor("a string"), EXIT_CODES.general);
});

test("the kinds a script tells apart get distinct codes", () => {
  const of = (cls: Parameters<typeof newError>[0]): number => exitCodeFor(newError(cls, "x"));
  assert.equal(of("InvalidArgument"), 2);
  assert.equal(of("NotFound"), 3);
  assert.equal(of("Unauthenticated"), 4);
  assert.equal(of("PermissionDenied"), 4);
  assert.equal(of("Unavailable"), 5);
  assert.equal(of("AlreadyExists"), 6);
  assert.equal(of("FailedPrecondition"), 6);
  assert.equal(of("Internal"), 1);
});
