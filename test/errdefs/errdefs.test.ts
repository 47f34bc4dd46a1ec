import { test } from "node:test";
import assert from "node:assert/strict";
import { errorClass, isNotFound, NotFoundError, InvalidArgumentError, isInvalidArgument } from "../../src/errdefs/index.js";

test("error classes are found through cause chains, never by message", () => {
  const inner = new NotFoundError("blob sha256:x not found");
  const outer = new Error("pull failed", { cause: new Error("fetch", { cause: inner }) });
  assert.equal(isNotFound(outer), true);
  assert.equal(errorClass(outer), "NotFound");
  assert.equal(isInvalidArgument(outer), false);
  assert.equal(errorClass(new Error("not found")), undefined);
  const e = new InvalidArgumentError("bad");
  assert.equal(e.name, "InvalidArgumentError");
  assert.equal(e.code, "InvalidArgument");
});

test("newError builds the subclass for each class, so is* helpers and instanceof agree", async () => {
  const { newError, NotFoundError: NF, PodyardError } = await import("../../src/errdefs/index.js");
  const e = newError("NotFound", "gone", { cause: new Error("inner") });
  assert.ok(e instanceof NF);
  assert.equal(isNotFound(e), true);
  assert.equal((e.cause as Error).message, "inner");
  const internal = newError("Internal", "oops");
  assert.ok(internal instanceof PodyardError);
  assert.equal(errorClass(internal), "Internal");
});

test("isErrorClass knows every class name and nothing else", async () => {
  const { isErrorClass } = await import("../../src/errdefs/index.js");
  for (const name of ["InvalidArgument", "NotFound", "AlreadyExists", "FailedPrecondition", "Unavailable", "PermissionDenied",
    "Unauthenticated", "ResourceExhausted", "OutOfRange", "Aborted", "NotImplemented", "Internal"]) assert.equal(isErrorClass(name), true, name);
  for (const name of ["", "notfound", "toString", "constructor", "__proto__", "Error"]) assert.equal(isErrorClass(name), false, name);
});

test("causeChain walks err and its causes outermost first; findCause returns the outermost of a class", async () => {
  const { causeChain, findCause, PodyardError } = await import("../../src/errdefs/index.js");
  const inner = new NotFoundError("inner");
  const middle = new InvalidArgumentError("middle", { cause: inner });
  const outer = new Error("outer", { cause: middle });
  assert.deepEqual([...causeChain(outer)].map((e) => e.message), ["outer", "middle", "inner"]);
  assert.equal(findCause(outer, PodyardError), middle);
  assert.equal(findCause(outer, NotFoundError), inner);
  assert.equal(findCause("not an error", PodyardError), undefined);
  const loop = new Error("self");
  (loop as { cause?: unknown }).cause = loop;
  assert.equal([...causeChain(loop)].length, 16, "a cycle stops at 16");
});

test("hasErrorCode finds a system error code anywhere in the cause chain", async () => {
  const { hasErrorCode } = await import("../../src/errdefs/index.js");
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5000"), { code: "ECONNREFUSED" });
  const failed = new TypeError("fetch failed", { cause: refused });
  assert.equal(hasErrorCode(new Error("pull", { cause: failed }), "ECONNREFUSED"), true);
  assert.equal(hasErrorCode(failed, "ETIMEDOUT"), false);
  assert.equal(hasErrorCode("ECONNREFUSED", "ECONNREFUSED"), false);
});

test("errorMessage: an Error's message, anything else as text", async () => {
  const { errorMessage } = await import("../../src/errdefs/index.js");
  assert.equal(errorMessage(new Error("boom")), "boom");
  assert.equal(errorMessage("plain"), "plain");
  assert.equal(errorMessage(42), "42");
});
