import { test } from "node:test";
import assert from "node:assert/strict";
import { familiarName, familiarString, parseNormalizedNamed, parseReference } from "../../src/reference/index.js";

const H64 = "f".repeat(64);

// distribution's FamiliarName / FamiliarString on normalized references.
const cases: Array<{ input: string; name: string; string: string }> = [
  { input: "docker.io/library/alpine", name: "alpine", string: "alpine" },
  { input: "alpine:3.20", name: "alpine", string: "alpine:3.20" },
  { input: "ubuntu", name: "ubuntu", string: "ubuntu" },
  { input: "docker.io/library/foo/bar", name: "library/foo/bar", string: "library/foo/bar" },
  { input: "library/foo/bar:1", name: "library/foo/bar", string: "library/foo/bar:1" },
  { input: "docker.io/dmcgowan/myapp:latest", name: "dmcgowan/myapp", string: "dmcgowan/myapp:latest" },
  { input: "index.docker.io/fooo/bar", name: "fooo/bar", string: "fooo/bar" },
  { input: `redis@sha256:${H64}`, name: "redis", string: `redis@sha256:${H64}` },
  { input: `busybox:1@sha256:${H64}`, name: "busybox", string: `busybox:1@sha256:${H64}` },
  { input: "registry-1.docker.io/library/foo", name: "registry-1.docker.io/library/foo", string: "registry-1.docker.io/library/foo" },
  { input: "gcr.io/library/busybox:1", name: "gcr.io/library/busybox", string: "gcr.io/library/busybox:1" },
  { input: "localhost:5000/foo:tag", name: "localhost:5000/foo", string: "localhost:5000/foo:tag" },
  { input: "Foo/bar", name: "Foo/bar", string: "Foo/bar" },
];

for (const c of cases) {
  void test(`familiar forms of ${JSON.stringify(c.input)}`, () => {
    const ref = parseNormalizedNamed(c.input);
    assert.equal(familiarName(ref), c.name);
    assert.equal(familiarString(ref), c.string);
  });
}

void test("familiar forms leave references without docker.io alone", () => {
  const ref = parseReference("library/foo:1");
  assert.equal(familiarName(ref), "library/foo");
  assert.equal(familiarString(ref), "library/foo:1");
});

void test("familiar forms round-trip through parseNormalizedNamed", () => {
  for (const c of cases) {
    assert.equal(parseNormalizedNamed(familiarString(parseNormalizedNamed(c.input))).toString(), parseNormalizedNamed(c.input).toString());
  }
});
