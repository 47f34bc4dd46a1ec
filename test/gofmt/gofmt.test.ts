/** Go's text formats, as the messages copied from the kubelet and the API server print them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { aggregateMessage, formatGoDuration, goList, goQuote } from "../../src/gofmt/index.js";

test("durations print as Go prints them", () => {
  const cases: [number, string][] = [
    [0, "0s"], [313, "313ms"], [1.5, "1.5ms"], [0.0005, "500ns"], [0.25, "250µs"], [1000, "1s"], [1627, "1.627s"], [1200, "1.2s"],
    [123_500, "2m3.5s"], [3_600_000, "1h0m0s"], [60_000, "1m0s"], [2 * 60_000, "2m0s"], [3_723_000, "1h2m3s"], [-1500, "-1.5s"],
    [10_000, "10s"], [80_000, "1m20s"], [300_000, "5m0s"], [300, "300ms"],
  ];
  for (const [ms, text] of cases) assert.equal(formatGoDuration(ms), text, `${ms} ms`);
});

test("strings are quoted as Go's %q quotes them", () => {
  assert.equal(goQuote("nginx:1.25"), '"nginx:1.25"');
  assert.equal(goQuote('a"b\\c\td\x00e\x7f'), '"a\\"b\\\\c\\td\\x00e\\x7f"');
  assert.equal(goQuote("ünï"), '"ünï"');
  assert.equal(goQuote("\x07\b\f\n\r\v"), '"\\a\\b\\f\\n\\r\\v"');
  assert.equal(goQuote("\u0085"), '"\\u0085"');
  assert.equal(goQuote("\ud800"), '"\\ufffd"');
  assert.equal(goQuote(""), '""');
});

test("string slices print as Go's %s of a []string", () => {
  assert.equal(goList(["a", "b"]), "[a b]");
  assert.equal(goList([]), "[]");
});

test("aggregate errors: one as itself, several once each in brackets", () => {
  assert.equal(aggregateMessage(["x"]), "x");
  assert.equal(aggregateMessage(["x", "x"]), "x");
  assert.equal(aggregateMessage(["x", "y", "x"]), "[x, y]");
});
