import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errdefs/index.js";
import { parseReference } from "../../src/reference/index.js";

const H64 = "f".repeat(64);
const F128 = "f".repeat(128);

function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

interface Ok {
  input: string;
  name: string;
  domain: string;
  tag?: string;
  digest?: string;
}

// distribution/reference v0.6.0 reference_test.go TestReferenceParse (successes), spec #35, #36, #39, #41, #43, #44.
const valid: Ok[] = [
  { input: "test_com", name: "test_com", domain: "" },
  { input: "test.com:tag", name: "test.com", domain: "", tag: "tag" },
  { input: "test.com:5000", name: "test.com", domain: "", tag: "5000" }, // #44: repo test.com, tag 5000
  { input: "test.com/repo:tag", name: "test.com/repo", domain: "test.com", tag: "tag" },
  { input: "test:5000/repo", name: "test:5000/repo", domain: "test:5000" },
  { input: "test:5000/repo:tag", name: "test:5000/repo", domain: "test:5000", tag: "tag" },
  { input: `test:5000/repo@sha256:${H64}`, name: "test:5000/repo", domain: "test:5000", digest: `sha256:${H64}` },
  // #35
  { input: `test:5000/repo:tag@sha256:${H64}`, name: "test:5000/repo", domain: "test:5000", tag: "tag", digest: `sha256:${H64}` },
  // #39
  { input: "lowercase:Uppercase", name: "lowercase", domain: "", tag: "Uppercase" },
  // #41 (path-only length check, v0.6.0)
  { input: `example.com/${"a".repeat(255)}:tag`, name: `example.com/${"a".repeat(255)}`, domain: "example.com", tag: "tag" },
  { input: "sub-dom1.foo.com/bar/baz/quux", name: "sub-dom1.foo.com/bar/baz/quux", domain: "sub-dom1.foo.com" },
  { input: "sub-dom1.foo.com/bar/baz/quux:some-long-tag", name: "sub-dom1.foo.com/bar/baz/quux", domain: "sub-dom1.foo.com", tag: "some-long-tag" },
  { input: "b.gcr.io/test.example.com/my-app:test.example.com", name: "b.gcr.io/test.example.com/my-app", domain: "b.gcr.io", tag: "test.example.com" },
  { input: "xn--n3h.com/myimage:xn--n3h.com", name: "xn--n3h.com/myimage", domain: "xn--n3h.com", tag: "xn--n3h.com" },
  // #36
  { input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`, name: "xn--7o8h.com/myimage", domain: "xn--7o8h.com", tag: "xn--7o8h.com", digest: `sha512:${F128}` },
  { input: "foo_bar.com:8080", name: "foo_bar.com", domain: "", tag: "8080" },
  { input: "foo/foo_bar.com:8080", name: "foo/foo_bar.com", domain: "foo", tag: "8080" },
  { input: "192.168.1.1", name: "192.168.1.1", domain: "" },
  { input: "192.168.1.1:tag", name: "192.168.1.1", domain: "", tag: "tag" },
  { input: "192.168.1.1:5000", name: "192.168.1.1", domain: "", tag: "5000" },
  { input: "192.168.1.1/repo", name: "192.168.1.1/repo", domain: "192.168.1.1" },
  { input: "192.168.1.1:5000/repo", name: "192.168.1.1:5000/repo", domain: "192.168.1.1:5000" },
  // #43
  { input: "192.168.1.1:5000/repo:5050", name: "192.168.1.1:5000/repo", domain: "192.168.1.1:5000", tag: "5050" },
  { input: "[2001:db8::1]/repo", name: "[2001:db8::1]/repo", domain: "[2001:db8::1]" },
  { input: "[2001:db8:1:2:3:4:5:6]/repo:tag", name: "[2001:db8:1:2:3:4:5:6]/repo", domain: "[2001:db8:1:2:3:4:5:6]", tag: "tag" },
  { input: "[2001:db8::1]:5000/repo", name: "[2001:db8::1]:5000/repo", domain: "[2001:db8::1]:5000" },
  { input: "[2001:db8::1]:5000/repo:tag", name: "[2001:db8::1]:5000/repo", domain: "[2001:db8::1]:5000", tag: "tag" },
  { input: `[2001:db8::1]:5000/repo@sha256:${H64}`, name: "[2001:db8::1]:5000/repo", domain: "[2001:db8::1]:5000", digest: `sha256:${H64}` },
  { input: `[2001:db8::1]:5000/repo:tag@sha256:${H64}`, name: "[2001:db8::1]:5000/repo", domain: "[2001:db8::1]:5000", tag: "tag", digest: `sha256:${H64}` },
  { input: "[2001:db8::]:5000/repo", name: "[2001:db8::]:5000/repo", domain: "[2001:db8::]:5000" },
  { input: "[::1]:5000/repo", name: "[::1]:5000/repo", domain: "[::1]:5000" },
  { input: "[fc00::1]:5000/docker/docker", name: "[fc00::1]:5000/docker/docker", domain: "[fc00::1]:5000" },
  { input: "localhost/foo", name: "localhost/foo", domain: "localhost" },
  { input: "localhost:5000/foo", name: "localhost:5000/foo", domain: "localhost:5000" },
  // Uppercase is allowed in the domain, never in the path.
  { input: "Example.COM:5000/foo", name: "Example.COM:5000/foo", domain: "Example.COM:5000" },
  // Parse takes the first component as the domain whenever it can be one.
  { input: "library/ubuntu", name: "library/ubuntu", domain: "library" },
  // A first component that cannot be a domain stays in the path.
  { input: "a_b.c/foo", name: "a_b.c/foo", domain: "" },
  // Uppercase first component is a domain, so Parse accepts it (the FIXME in reference_test.go).
  { input: "Uppercase/lowercase:tag", name: "Uppercase/lowercase", domain: "Uppercase", tag: "tag" },
  { input: `a/${"b".repeat(255)}`, name: `a/${"b".repeat(255)}`, domain: "a" },
];

for (const c of valid) {
  void test(`parseReference(${JSON.stringify(c.input.length > 80 ? `${c.input.slice(0, 77)}...` : c.input)})`, () => {
    const ref = parseReference(c.input);
    assert.equal(ref.toString(), c.input);
    assert.equal(ref.name, c.name);
    assert.equal(ref.domain, c.domain);
    assert.equal(ref.path, c.domain === "" ? c.name : c.name.slice(c.domain.length + 1));
    assert.equal(ref.tag, c.tag);
    assert.equal(ref.digest, c.digest);
  });
}

// §1.2 and §1.4 messages; reference_test.go failures; spec #37, #38, #40, #41, #42.
const invalid: Array<{ input: string; err: string }> = [
  { input: "", err: "repository name must have at least one component" },
  { input: ":justtag", err: "invalid reference format" },
  { input: `@sha256:${H64}`, err: "invalid reference format" },
  { input: "aa/asdf$$^/aa", err: "invalid reference format" },
  { input: "repo@sha256:" + "f".repeat(34), err: "invalid checksum digest length" },
  { input: `validname@invaliddigest:${H64}`, err: "unsupported digest algorithm" },
  { input: "Uppercase:tag", err: "repository name must be lowercase" },
  { input: "test:5000/Uppercase/lowercase:tag", err: "repository name must be lowercase" },
  { input: `example.com/${"a".repeat(256)}:tag`, err: "repository name must not be more than 255 characters" },
  { input: `domain/${"a".repeat(256)}:tag`, err: "repository name must not be more than 255 characters" },
  { input: `${"b".repeat(256)}`, err: "repository name must not be more than 255 characters" }, // no domain: the whole name is the path
  { input: "[2001:db8::1]", err: "invalid reference format" },
  { input: "[2001:db8::1]:5000", err: "invalid reference format" },
  { input: "[2001:db8::1]:tag", err: "invalid reference format" },
  { input: "[fe80::1%eth0]:5000/repo", err: "invalid reference format" },
  { input: "[fe80::1%@invalidzone]:5000/repo", err: "invalid reference format" },
  { input: "fc00::1:5000/debian", err: "invalid reference format" },
  { input: "[2001:db8:3:4::192.0.2.33]:5000/debian", err: "invalid reference format" },
  { input: "https://github.com/docker/docker", err: "invalid reference format" },
  { input: "foo:", err: "invalid reference format" },
  { input: "foo@", err: "invalid reference format" },
  { input: `foo:${"t".repeat(129)}`, err: "invalid reference format" },
  { input: "foo:.tag", err: "invalid reference format" },
  { input: "foo/", err: "invalid reference format" },
  { input: " foo", err: "invalid reference format" },
  // The digest regex wants 32+ hex digits; go-digest then judges the digest.
  { input: "repo@sha256:" + "f".repeat(31), err: "invalid reference format" },
  { input: "repo@sha256:" + "F".repeat(64), err: "invalid checksum digest format" }, // uppercase hex
  { input: "repo@sha384:" + "f".repeat(64), err: "invalid checksum digest length" },
  { input: "repo@md5:" + "f".repeat(32), err: "unsupported digest algorithm" },
  { input: "repo@SHA256:" + H64, err: "invalid checksum digest format" }, // algorithm fails go-digest's format
];

for (const c of invalid) {
  void test(`parseReference(${JSON.stringify(c.input.length > 80 ? `${c.input.slice(0, 77)}...` : c.input)}) fails`, () => {
    assertInvalid(() => parseReference(c.input), c.err);
  });
}

void test("parseReference accepts sha384 and sha512 digests of the right length", () => {
  assert.equal(parseReference(`r@sha384:${"a".repeat(96)}`).digest, `sha384:${"a".repeat(96)}`);
  assert.equal(parseReference(`r@sha512:${"a".repeat(128)}`).digest, `sha512:${"a".repeat(128)}`);
});

void test("parseReference accepts a 128-character tag and rejects 129", () => {
  assert.equal(parseReference(`r:${"T".repeat(128)}`).tag, "T".repeat(128));
  assertInvalid(() => parseReference(`r:${"T".repeat(129)}`), "invalid reference format");
});

void test("parseReference: separators in path components", () => {
  for (const ok of ["a.b", "a_b", "a__b", "a-b", "a---b", "a-b_c.d__e"]) {
    assert.equal(parseReference(`x/${ok}`).path, ok);
  }
  for (const bad of ["a___b", "a..b", "a._b", "a-", "_a", "a/-b"]) {
    assertInvalid(() => parseReference(`x/${bad}`), "invalid reference format");
  }
});
