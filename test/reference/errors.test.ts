import { test } from "node:test";
import assert from "node:assert/strict";
import { isInvalidArgument } from "../../src/errdefs/index.js";
import { InvalidReferenceError, parseDockerRef, parseNormalizedNamed, parseReference } from "../../src/reference/index.js";

function rejection(fn: () => unknown): InvalidReferenceError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidReferenceError, `an InvalidReferenceError: ${String(err)}`);
    return err;
  }
  assert.fail("expected a rejection");
}

test("a bad reference names the input as the user typed it, and keeps distribution's message", () => {
  const e = rejection(() => parseNormalizedNamed("a..b"));
  assert.equal(e.input, "a..b", "the input before normalization (not docker.io/library/a..b)");
  assert.equal(e.message, "invalid reference format");
  assert.equal(isInvalidArgument(e), true);
  assert.equal(rejection(() => parseDockerRef("Nginx")).input, "Nginx");
  assert.equal(rejection(() => parseReference("")).input, "");
  const digest = rejection(() => parseReference(`x@sha256:${"a".repeat(40)}`));
  assert.equal(digest.input, `x@sha256:${"a".repeat(40)}`);
  assert.equal(digest.message, "invalid checksum digest length", "a digest error too");
});
