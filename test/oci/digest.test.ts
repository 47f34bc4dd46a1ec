import { test } from "node:test";
import assert from "node:assert/strict";
import { Digester, digestOf, parseDigest } from "../../src/oci/index.js";

test("digests are validated with go-digest's messages", () => {
  const ok = `sha256:${"a".repeat(64)}`;
  assert.equal(parseDigest(ok), ok);
  assert.equal(parseDigest(`sha512:${"0".repeat(128)}`), `sha512:${"0".repeat(128)}`);
  assert.equal(parseDigest(`sha384:${"0".repeat(96)}`), `sha384:${"0".repeat(96)}`);
  const bad: [string, string][] = [
    ["sha256", "invalid checksum digest format"],
    [":abc", "invalid checksum digest format"],
    ["sha256:", "invalid checksum digest format"],
    [`sha256:${"a".repeat(63)}`, "invalid checksum digest length"],
    [`sha256:${"A".repeat(64)}`, "invalid checksum digest format"],
    [`md5:${"a".repeat(32)}`, "unsupported digest algorithm"],
    ["sha256:../../etc/passwd", "invalid checksum digest length"],
    ["SHA256:abc", "invalid checksum digest format"],
  ];
  for (const [input, message] of bad) assert.throws(() => parseDigest(input), { message }, input);
});

test("a Digester streaming chunks equals the digest of the whole", () => {
  const d = new Digester("sha512");
  d.update(Buffer.from("hello "));
  assert.equal(d.size, 6);
  d.update(Buffer.from("world"));
  assert.equal(d.digest(), digestOf("hello world", "sha512"));
  assert.equal(digestOf(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});
