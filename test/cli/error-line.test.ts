import { test } from "node:test";
import assert from "node:assert/strict";
import { NotFoundError } from "../../src/errdefs/index.js";
import { parseNormalizedNamed } from "../../src/reference/index.js";
import { errorLine, errorReport } from "../../src/cli/error-line.js";

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return assert.fail("expected a throw");
}

test("one line: a multi-line message is folded, and a bad reference's input is named once", () => {
  assert.equal(errorLine(new Error("helper said:\n  no such\n  credentials")), "helper said: no such credentials");
  const bad = thrown(() => parseNormalizedNamed("a..b"));
  assert.equal(errorLine(bad), 'invalid reference format: "a..b"');
  assert.equal(errorLine(new Error('pull "a..b": invalid reference format', { cause: bad })), 'pull "a..b": invalid reference format', "already named");
  assert.equal(errorLine("thrown string"), "thrown string");
});

test("the report is the prefixed line; stacks of the error and its causes only with debug", () => {
  const err = new Error("pull x: gone", { cause: new NotFoundError("blob gone") });
  assert.equal(errorReport(err, false), "podyard: error: pull x: gone\n");
  const debug = errorReport(err, true);
  assert.ok(debug.startsWith("podyard: error: pull x: gone\nError: pull x: gone\n    at "), debug);
  assert.match(debug, /\ncaused by: NotFoundError: blob gone\n {4}at /);
});
