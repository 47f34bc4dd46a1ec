import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errdefs/index.js";
import { isNameOnly, parseNormalizedNamed, parseReference, trimNamed, withDigest, withTag } from "../../src/reference/index.js";

const D = `sha256:${"a".repeat(64)}`;

void test("toString is name[:tag][@digest]", () => {
  assert.equal(parseReference("example.com/foo").toString(), "example.com/foo");
  assert.equal(parseReference("example.com/foo:1").toString(), "example.com/foo:1");
  assert.equal(parseReference(`example.com/foo@${D}`).toString(), `example.com/foo@${D}`);
  assert.equal(parseReference(`example.com/foo:1@${D}`).toString(), `example.com/foo:1@${D}`);
  assert.equal(`${parseReference("foo:1")}`, "foo:1");
});

void test("name is domain/path, or path alone without a domain", () => {
  const ref = parseNormalizedNamed("redis:7");
  assert.deepEqual([ref.domain, ref.path, ref.name], ["docker.io", "library/redis", "docker.io/library/redis"]);
  const bare = parseReference("redis");
  assert.deepEqual([bare.domain, bare.path, bare.name], ["", "redis", "redis"]);
});

void test("references are immutable", () => {
  const ref = parseReference("foo:1");
  assert.ok(Object.isFrozen(ref));
});

void test("isNameOnly", () => {
  assert.equal(isNameOnly(parseReference("foo")), true);
  assert.equal(isNameOnly(parseReference("foo:1")), false);
  assert.equal(isNameOnly(parseReference(`foo@${D}`)), false);
});

void test("withTag sets the tag and keeps the digest", () => {
  assert.equal(withTag(parseReference("test.com:8000/foo"), "TAG5").toString(), "test.com:8000/foo:TAG5");
  assert.equal(withTag(parseReference(`test.com/foo:old@${D}`), "new").toString(), `test.com/foo:new@${D}`);
  assert.throws(() => withTag(parseReference("foo"), "-bad"), (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.equal(err.message, "invalid tag format");
    return true;
  });
});

void test("withDigest sets the digest, keeps the tag, and validates as go-digest", () => {
  assert.equal(withDigest(parseReference("test.com/foo:1"), D).toString(), `test.com/foo:1@${D}`);
  assert.throws(() => withDigest(parseReference("foo"), "sha256:abc"), { message: "invalid checksum digest length" });
  assert.throws(() => withDigest(parseReference("foo"), "nodigest"), { message: "invalid checksum digest format" });
});

void test("trimNamed drops tag and digest", () => {
  const ref = trimNamed(parseReference(`test.com/foo:1@${D}`));
  assert.deepEqual([ref.toString(), ref.domain, ref.path, ref.tag, ref.digest], ["test.com/foo", "test.com", "foo", undefined, undefined]);
});
