import { test } from "node:test";
import assert from "node:assert/strict";
import { ResourceExhaustedError } from "../../src/errdefs/index.js";
import { noSpaceError } from "../../src/fsutil/index.js";

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

test("noSpaceError names the file of an ENOSPC or EDQUOT, and leaves other errors as they are", () => {
  const full = errno("ENOSPC", "ENOSPC: no space left on device, write");
  const wrapped = noSpaceError(full, "/var/lib/podyard/content/ingest/abc/data");
  assert.ok(wrapped instanceof Error);
  assert.equal(wrapped.message, "no space left on device: writing /var/lib/podyard/content/ingest/abc/data");
  assert.ok(wrapped instanceof ResourceExhaustedError);
  assert.equal(wrapped.cause, full);
  assert.equal((noSpaceError(errno("EDQUOT", "EDQUOT"), "/h/x", "creating") as Error).message, "disk quota exceeded: creating /h/x");
  assert.equal(noSpaceError(wrapped, "/elsewhere"), wrapped, "wrapped once");
  const other = errno("EACCES", "EACCES: permission denied");
  assert.equal(noSpaceError(other, "/h/x"), other);
  assert.equal(noSpaceError("text", "/h/x"), "text");
});
