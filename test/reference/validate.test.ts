import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errdefs/index.js";
import { validateRepositoryName, validateTag } from "../../src/reference/index.js";

function assertRejects(fn: () => void, value: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError);
    assert.ok(err.message.includes(JSON.stringify(value)), `message ${err.message} should name ${value}`);
    return true;
  });
}

const goodNames = ["a", "library/ubuntu", "foo/bar/baz", "a.b", "a_b", "a__b", "a---b", "docker---rules/docker", "1a3f", "a".repeat(255)];
const badNames = ["", "A", "foo/Bar", "a___b", "a..b", "-a", "a-", "a/", "/a", "a//b", "a:b", "a@b", "example.com:5000/foo", "a".repeat(256), `${"a/".repeat(127)}ab`];

for (const name of goodNames) {
  void test(`validateRepositoryName accepts ${JSON.stringify(name.slice(0, 40))}`, () => {
    assert.doesNotThrow(() => validateRepositoryName(name));
  });
}

for (const name of badNames) {
  void test(`validateRepositoryName rejects ${JSON.stringify(name.slice(0, 40))}`, () => {
    assertRejects(() => validateRepositoryName(name), name);
  });
}

void test("validateRepositoryName messages", () => {
  assert.throws(() => validateRepositoryName("Foo"), {
    message: String.raw`invalid repository name "Foo": must match [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`,
  });
  assert.throws(() => validateRepositoryName("a".repeat(256)), {
    message: `invalid repository name "${"a".repeat(256)}": must not be more than 255 characters`,
  });
});

const goodTags = ["latest", "v1.2.3", "UPPER", "_x", "1", "a-b_c.d", "t".repeat(128)];
const badTags = ["", ".x", "-x", "a:b", "a/b", "a@b", "t".repeat(129), "é"];

for (const tag of goodTags) {
  void test(`validateTag accepts ${JSON.stringify(tag.slice(0, 40))}`, () => {
    assert.doesNotThrow(() => validateTag(tag));
  });
}

for (const tag of badTags) {
  void test(`validateTag rejects ${JSON.stringify(tag.slice(0, 40))}`, () => {
    assertRejects(() => validateTag(tag), tag);
  });
}

void test("validateTag message", () => {
  assert.throws(() => validateTag("-x"), { message: String.raw`invalid tag "-x": must match [\w][\w.-]{0,127}` });
});
