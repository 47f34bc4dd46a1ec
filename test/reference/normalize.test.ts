import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errdefs/index.js";
import {
  parseDockerRef,
  parseNormalizedNamed,
  parseReference,
  splitDockerDomain,
  tagNameOnly,
} from "../../src/reference/index.js";

const H64 = "f".repeat(64);
const F128 = "f".repeat(128);
const REDIS_DIGEST = "sha256:dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
const BUSYBOX_DIGEST = "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa";
const GCR_DIGEST = "sha256:e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";
const HEX64 = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
const HEX63 = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9";
const NAMESPACE_271 = Array<string>(4).fill("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255").join("_");

function assertInvalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

interface Vector {
  id: number;
  input: string;
  /** ParseNormalizedNamed(input).String() */
  want?: string;
  domain?: string;
  path?: string;
  tag?: string;
  digest?: string;
  err?: string;
}

const FORMAT = "invalid reference format";
const TOO_LONG = "repository name must not be more than 255 characters";

// Spec §1.5, every vector; multi-input vectors are split into one row per input.
const vectors: Vector[] = [
  { id: 1, input: "ubuntu", want: "docker.io/library/ubuntu", domain: "docker.io", path: "library/ubuntu" },
  { id: 2, input: "library/ubuntu", want: "docker.io/library/ubuntu", domain: "docker.io", path: "library/ubuntu" },
  { id: 3, input: "docker.io/library/ubuntu", want: "docker.io/library/ubuntu", domain: "docker.io", path: "library/ubuntu" },
  { id: 4, input: "fooo/bar", want: "docker.io/fooo/bar", domain: "docker.io", path: "fooo/bar" },
  { id: 5, input: "index.docker.io/fooo/bar", want: "docker.io/fooo/bar", domain: "docker.io", path: "fooo/bar" },
  { id: 6, input: "docker.io/foo", want: "docker.io/library/foo", domain: "docker.io", path: "library/foo" },
  { id: 7, input: "library/foo/bar", want: "docker.io/library/foo/bar", domain: "docker.io", path: "library/foo/bar" },
  { id: 8, input: "ubuntu-12.04-base", want: "docker.io/library/ubuntu-12.04-base", domain: "docker.io" },
  { id: 9, input: "127.0.0.1:8000/privatebase", want: "127.0.0.1:8000/privatebase", domain: "127.0.0.1:8000", path: "privatebase" },
  { id: 10, input: "example.com:8000/private/moonbase", want: "example.com:8000/private/moonbase", domain: "example.com:8000", path: "private/moonbase" },
  { id: 11, input: "Foo/bar", want: "Foo/bar", domain: "Foo", path: "bar" },
  { id: 12, input: "test_com/foo", want: "docker.io/test_com/foo", domain: "docker.io", path: "test_com/foo" },
  { id: 13, input: "test-com:8080/foo", want: "test-com:8080/foo", domain: "test-com:8080", path: "foo" },
  { id: 14, input: "xn--n3h.com:18080/foo", want: "xn--n3h.com:18080/foo", domain: "xn--n3h.com:18080", path: "foo" },
  { id: 15, input: "redis:latest", want: "docker.io/library/redis:latest", tag: "latest" },
  { id: 16, input: `redis@${REDIS_DIGEST}`, want: `docker.io/library/redis@${REDIS_DIGEST}`, digest: REDIS_DIGEST },
  { id: 17, input: "dmcgowan/myapp:latest", want: "docker.io/dmcgowan/myapp:latest", path: "dmcgowan/myapp", tag: "latest" },
  { id: 18, input: "dbcc1", want: "docker.io/library/dbcc1" },
  { id: 19, input: HEX63, want: `docker.io/library/${HEX63}` },
  {
    id: 20, input: `busybox:latest@${BUSYBOX_DIGEST}`, want: `docker.io/library/busybox:latest@${BUSYBOX_DIGEST}`,
    tag: "latest", digest: BUSYBOX_DIGEST,
  },
  { id: 21, input: `docker.io/${HEX64}`, want: `docker.io/library/${HEX64}` },
  { id: 22, input: HEX64, err: `invalid repository name (${HEX64}), cannot specify 64-byte hexadecimal strings` },
  { id: 23, input: "[fc00::1]:5000/docker/docker", want: "[fc00::1]:5000/docker/docker", domain: "[fc00::1]:5000", path: "docker/docker" },
  { id: 24, input: "DOCKER/docker", want: "DOCKER/docker", domain: "DOCKER", path: "docker" },
  {
    id: 25, input: "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
    want: "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
  },
  { id: 26, input: "https://github.com/docker/docker", err: FORMAT },
  { id: 27, input: "docker/Docker", err: "invalid reference format: repository name (docker/Docker) must be lowercase" },
  { id: 28, input: "-docker", err: FORMAT },
  { id: 29, input: "docker///docker", err: FORMAT },
  { id: 30, input: "[fc00::1]", err: FORMAT },
  { id: 30, input: "[fc00::1]:5000", err: FORMAT },
  { id: 31, input: "fc00::1:5000/debian", err: FORMAT },
  { id: 31, input: "[fe80::1%eth0]:5000/debian", err: FORMAT },
  { id: 31, input: "[2001:db8:3:4::192.0.2.33]:5000/debian", err: FORMAT },
  { id: 32, input: "docker---rules/docker", want: "docker.io/docker---rules/docker" },
  { id: 32, input: "dock__er/docker", want: "docker.io/dock__er/docker" },
  { id: 32, input: "d/docker", want: "docker.io/d/docker" },
  { id: 32, input: "jess/t", want: "docker.io/jess/t" },
  { id: 33, input: "docker-/docker", err: FORMAT },
  { id: 33, input: "-docker-/docker", err: FORMAT },
  { id: 33, input: "____/____", err: FORMAT },
  { id: 33, input: "_docker/_docker", err: FORMAT },
  { id: 33, input: "dock..er/docker", err: FORMAT },
  { id: 33, input: "dock_.er/docker", err: FORMAT },
  { id: 33, input: "dock-.er/docker", err: FORMAT },
  { id: 33, input: "docker/", err: FORMAT },
  { id: 34, input: `${NAMESPACE_271}/docker`, err: TOO_LONG },
  {
    id: 35, input: `test:5000/repo:tag@sha256:${H64}`, want: `test:5000/repo:tag@sha256:${H64}`,
    domain: "test:5000", path: "repo", tag: "tag", digest: `sha256:${H64}`,
  },
  {
    id: 36, input: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`, want: `xn--7o8h.com/myimage:xn--7o8h.com@sha512:${F128}`,
    domain: "xn--7o8h.com", tag: "xn--7o8h.com", digest: `sha512:${F128}`,
  },
  { id: 37, input: `repo@sha256:${"f".repeat(34)}`, err: "invalid checksum digest length" },
  { id: 38, input: `validname@invaliddigest:${H64}`, err: "unsupported digest algorithm" },
  { id: 39, input: "lowercase:Uppercase", want: "docker.io/library/lowercase:Uppercase", tag: "Uppercase" },
  { id: 40, input: "Uppercase:tag", err: "invalid reference format: repository name (library/Uppercase) must be lowercase" },
  {
    id: 41, input: `example.com/${"a".repeat(255)}:tag`, want: `example.com/${"a".repeat(255)}:tag`,
    domain: "example.com", path: "a".repeat(255), tag: "tag",
  },
  { id: 41, input: `domain/${"a".repeat(256)}:tag`, err: TOO_LONG },
  { id: 42, input: "aa/asdf$$^/aa", err: FORMAT },
  { id: 42, input: ":justtag", err: FORMAT },
  { id: 42, input: `@sha256:${H64}`, err: FORMAT },
  { id: 43, input: "192.168.1.1:5000/repo:5050", want: "192.168.1.1:5000/repo:5050", domain: "192.168.1.1:5000", path: "repo", tag: "5050" },
  { id: 44, input: "test.com:5000", want: "docker.io/library/test.com:5000", path: "library/test.com", tag: "5000" },
];

void test("the 271-character namespace of vector #34 is built right", () => {
  assert.equal(NAMESPACE_271.length, 271);
});

for (const v of vectors) {
  const label = v.input.length > 70 ? `${v.input.slice(0, 67)}...` : v.input;
  void test(`#${v.id} parseNormalizedNamed(${JSON.stringify(label)})`, () => {
    if (v.err !== undefined) {
      assertInvalid(() => parseNormalizedNamed(v.input), v.err);
      return;
    }
    const ref = parseNormalizedNamed(v.input);
    assert.equal(ref.toString(), v.want);
    if (v.domain !== undefined) assert.equal(ref.domain, v.domain);
    if (v.path !== undefined) assert.equal(ref.path, v.path);
    assert.equal(ref.name, `${ref.domain}/${ref.path}`);
    assert.equal(ref.tag, v.tag);
    assert.equal(ref.digest, v.digest);
  });
}

void test("#40 Parse itself reports the uppercase name without the normalized remote", () => {
  assertInvalid(() => parseReference("Uppercase:tag"), "repository name must be lowercase");
});

void test("#44 Parse takes test.com:5000 as repository test.com, tag 5000", () => {
  const ref = parseReference("test.com:5000");
  assert.deepEqual([ref.domain, ref.path, ref.tag], ["", "test.com", "5000"]);
});

// containerd ParseDockerRef (#45, #46).
const dockerRefs: Array<{ id?: number; input: string; want: string }> = [
  { id: 45, input: `gcr.io/library/busybox:latest@${GCR_DIGEST}`, want: `gcr.io/library/busybox@${GCR_DIGEST}` },
  { id: 46, input: "busybox", want: "docker.io/library/busybox:latest" },
  { id: 46, input: "docker.io/busybox", want: "docker.io/library/busybox:latest" },
  { id: 46, input: "library/busybox:latest", want: "docker.io/library/busybox:latest" },
  { input: "alpine", want: "docker.io/library/alpine:latest" },
  { input: `gcr.io/library/busybox@${GCR_DIGEST}`, want: `gcr.io/library/busybox@${GCR_DIGEST}` },
  { input: "gcr.io/library/busybox:1.36", want: "gcr.io/library/busybox:1.36" },
  { input: "localhost:5000/foo", want: "localhost:5000/foo:latest" },
];

for (const c of dockerRefs) {
  void test(`${c.id === undefined ? "" : `#${c.id} `}parseDockerRef(${JSON.stringify(c.input)})`, () => {
    const ref = parseDockerRef(c.input);
    assert.equal(ref.toString(), c.want);
  });
}

void test("parseDockerRef drops the tag but keeps domain and path", () => {
  const ref = parseDockerRef(`busybox:1@${BUSYBOX_DIGEST}`);
  assert.deepEqual([ref.domain, ref.path, ref.tag, ref.digest], ["docker.io", "library/busybox", undefined, BUSYBOX_DIGEST]);
});

void test("parseDockerRef passes parse errors through", () => {
  assertInvalid(() => parseDockerRef("Nginx"), "invalid reference format: repository name (library/Nginx) must be lowercase");
});

// §1.3 domain rules beyond the vectors.
const domains: Array<{ input: string; want: string; domain: string; path: string }> = [
  { input: "registry-1.docker.io/foo", want: "registry-1.docker.io/foo", domain: "registry-1.docker.io", path: "foo" },
  { input: "index.docker.io/ubuntu", want: "docker.io/library/ubuntu", domain: "docker.io", path: "library/ubuntu" },
  { input: "localhost/foo", want: "localhost/foo", domain: "localhost", path: "foo" },
  { input: "localhost:5000/foo", want: "localhost:5000/foo", domain: "localhost:5000", path: "foo" },
  { input: "localhost", want: "docker.io/library/localhost", domain: "docker.io", path: "library/localhost" },
  { input: "localhost:5000", want: "docker.io/library/localhost:5000", domain: "docker.io", path: "library/localhost" },
  { input: "example.com/foo", want: "example.com/foo", domain: "example.com", path: "foo" },
  { input: "myreg:5000/foo", want: "myreg:5000/foo", domain: "myreg:5000", path: "foo" },
  { input: "[::1]/foo", want: "[::1]/foo", domain: "[::1]", path: "foo" },
  { input: "docker.io/library/foo/bar:1", want: "docker.io/library/foo/bar:1", domain: "docker.io", path: "library/foo/bar" },
];

for (const c of domains) {
  void test(`parseNormalizedNamed(${JSON.stringify(c.input)}) domain rules`, () => {
    const ref = parseNormalizedNamed(c.input);
    assert.deepEqual([ref.toString(), ref.domain, ref.path], [c.want, c.domain, c.path]);
  });
}

void test("parseNormalizedNamed adds no default tag", () => {
  assert.equal(parseNormalizedNamed("busybox").tag, undefined);
});

void test("parseNormalizedNamed: 64-hex check applies to the whole input only", () => {
  assert.equal(parseNormalizedNamed(`${HEX64}:tag`).toString(), `docker.io/library/${HEX64}:tag`);
  // "" becomes "docker.io/library/", so the empty-name error of Parse is never reached.
  assertInvalid(() => parseNormalizedNamed(""), FORMAT);
});

void test("parseNormalizedNamed: lowercase check looks only at the remote before the first ':'", () => {
  assert.equal(parseNormalizedNamed("foo:TAG").tag, "TAG");
  assertInvalid(() => parseNormalizedNamed("foo/Bar:tag"), "invalid reference format: repository name (foo/Bar) must be lowercase");
  assertInvalid(() => parseNormalizedNamed("example.com/Foo"), "invalid reference format: repository name (Foo) must be lowercase");
  assertInvalid(() => parseNormalizedNamed("Nginx"), "invalid reference format: repository name (library/Nginx) must be lowercase");
});

void test("splitDockerDomain", () => {
  assert.deepEqual(splitDockerDomain("ubuntu"), { domain: "docker.io", remainder: "library/ubuntu" });
  assert.deepEqual(splitDockerDomain("test.com:5000"), { domain: "docker.io", remainder: "library/test.com:5000" });
  assert.deepEqual(splitDockerDomain("Foo/bar"), { domain: "Foo", remainder: "bar" });
  assert.deepEqual(splitDockerDomain("foo/bar"), { domain: "docker.io", remainder: "foo/bar" });
  assert.deepEqual(splitDockerDomain("index.docker.io/ubuntu"), { domain: "docker.io", remainder: "library/ubuntu" });
});

void test("tagNameOnly adds latest only to name-only references", () => {
  assert.equal(tagNameOnly(parseNormalizedNamed("busybox")).toString(), "docker.io/library/busybox:latest");
  assert.equal(tagNameOnly(parseNormalizedNamed("busybox:1")).toString(), "docker.io/library/busybox:1");
  assert.equal(tagNameOnly(parseNormalizedNamed(`busybox@${BUSYBOX_DIGEST}`)).toString(), `docker.io/library/busybox@${BUSYBOX_DIGEST}`);
});
