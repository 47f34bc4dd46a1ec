import { test } from "node:test";
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../src/errdefs/index.js";
import { applyDefaultImageTag, parseImageName } from "../../src/reference/index.js";

const D = `sha256:${"b".repeat(64)}`;

// kubelet pkg/util/parsers ParseImageName.
const names: Array<{ image: string; repo: string; tag: string; digest: string }> = [
  { image: "nginx", repo: "docker.io/library/nginx", tag: "latest", digest: "" },
  { image: "nginx:1.27", repo: "docker.io/library/nginx", tag: "1.27", digest: "" },
  { image: `nginx@${D}`, repo: "docker.io/library/nginx", tag: "", digest: D },
  { image: `nginx:1.27@${D}`, repo: "docker.io/library/nginx", tag: "1.27", digest: D },
  { image: "docker.io/library/nginx:latest", repo: "docker.io/library/nginx", tag: "latest", digest: "" },
  { image: "myreg:5000/foo", repo: "myreg:5000/foo", tag: "latest", digest: "" },
  { image: "localhost:5000/team/app:v2", repo: "localhost:5000/team/app", tag: "v2", digest: "" },
  { image: "test.com:5000", repo: "docker.io/library/test.com", tag: "5000", digest: "" },
];

for (const c of names) {
  void test(`parseImageName(${JSON.stringify(c.image)})`, () => {
    assert.deepEqual(parseImageName(c.image), { repo: c.repo, tag: c.tag, digest: c.digest });
  });
}

const failures: Array<{ image: string; message: string }> = [
  { image: "Nginx", message: `couldn't parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase` },
  { image: "", message: `couldn't parse image name "": invalid reference format` },
  { image: "foo bar", message: `couldn't parse image name "foo bar": invalid reference format` },
  { image: 'a"b\n', message: `couldn't parse image name "a\\"b\\n": invalid reference format` },
  { image: "x\u0001", message: `couldn't parse image name "x\\x01": invalid reference format` },
  { image: "nginx@sha256:abc", message: `couldn't parse image name "nginx@sha256:abc": invalid reference format` },
  { image: `nginx@sha256:${"a".repeat(40)}`, message: `couldn't parse image name "nginx@sha256:${"a".repeat(40)}": invalid checksum digest length` },
];

for (const c of failures) {
  void test(`parseImageName(${JSON.stringify(c.image)}) fails`, () => {
    assert.throws(() => parseImageName(c.image), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError);
      assert.equal(err.message, c.message);
      assert.ok(err.cause instanceof InvalidArgumentError);
      return true;
    });
  });
}

// kubelet image_manager.go applyDefaultImageTag (§1.6): the CRI string is not normalized.
const defaults: Array<{ image: string; want: string }> = [
  { image: "busybox", want: "busybox:latest" },
  { image: "busybox:latest", want: "busybox:latest" },
  { image: "busybox:1.36", want: "busybox:1.36" },
  { image: "myreg:5000/foo", want: "myreg:5000/foo:latest" },
  { image: "myreg:5000/foo:v1", want: "myreg:5000/foo:v1" },
  { image: "docker.io/library/busybox", want: "docker.io/library/busybox:latest" },
  { image: "localhost/foo", want: "localhost/foo:latest" },
  { image: `busybox@${D}`, want: `busybox@${D}` },
  { image: `busybox:1@${D}`, want: `busybox:1@${D}` },
  { image: "test.com:5000", want: "test.com:5000" },
];

for (const c of defaults) {
  void test(`applyDefaultImageTag(${JSON.stringify(c.image)})`, () => {
    assert.equal(applyDefaultImageTag(c.image), c.want);
  });
}

void test("applyDefaultImageTag fails like parseImageName", () => {
  assert.throws(() => applyDefaultImageTag("Nginx"), {
    message: `couldn't parse image name "Nginx": invalid reference format: repository name (library/Nginx) must be lowercase`,
  });
});
