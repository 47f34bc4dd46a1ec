import { test } from "node:test";
import assert from "node:assert/strict";
import { isLoopback, optionWithDefault, parseAddr, parseDuration } from "../../src/cli/parse-flags.js";

test("addresses, durations and loopback", () => {
  assert.deepEqual(parseAddr("127.0.0.1:5000"), { host: "127.0.0.1", port: 5000 });
  assert.deepEqual(parseAddr("[::1]:0"), { host: "::1", port: 0 });
  assert.deepEqual(parseAddr(":5000"), { host: "0.0.0.0", port: 5000 });
  assert.throws(() => parseAddr("localhost"), /host:port/);
  assert.throws(() => parseAddr("x:70000"), /host:port/);
  assert.equal(parseDuration("90s"), 90_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("0s"), 0);
  assert.equal(parseDuration("250"), 250);
  assert.throws(() => parseDuration("soon"), /duration/);
  assert.equal(isLoopback("127.0.0.1"), true);
  assert.equal(isLoopback("127.1.2.3"), true);
  assert.equal(isLoopback("::1"), true);
  assert.equal(isLoopback("0.0.0.0"), false);
  assert.equal(isLoopback("10.0.0.1"), false);
});

test("optionWithDefault parses the default as typed and shows it as typed", () => {
  const grace = optionWithDefault("--grace <duration>", "spare younger blobs", "1h", parseDuration);
  assert.equal(grace.defaultValue, 3_600_000);
  assert.equal(grace.defaultValueDescription, "1h");
  const addr = optionWithDefault("--addr <host:port>", "listen here", "127.0.0.1:5000", parseAddr);
  assert.deepEqual(addr.defaultValue, { host: "127.0.0.1", port: 5000 });
  assert.equal(addr.defaultValueDescription, "127.0.0.1:5000");
  const plain = optionWithDefault("--token-service <name>", "service", "podyard-registry");
  assert.equal(plain.defaultValue, "podyard-registry");
  assert.equal(plain.defaultValueDescription, "podyard-registry", "no quotes");
});
