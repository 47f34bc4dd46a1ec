import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CriLogEncoder, formatLogTimestamp, formatRFC3339Nano, joinPartials, logTimeFromMillis, parseCriLogLine, parseRFC3339Nano,
} from "../../../src/runtime/index.js";

test("containerd (Z) and conmon (+00:00) lines parse to the same time; F keeps its newline, P drops it", () => {
  const a = parseCriLogLine(Buffer.from("2016-10-06T00:17:09.669794202Z stdout F hello\n"));
  const b = parseCriLogLine(Buffer.from("2016-10-06T00:17:09.669794202+00:00 stderr P part\n"));
  assert.equal(a.time.nanos, b.time.nanos);
  assert.equal(a.stream, "stdout");
  assert.equal(a.partial, false);
  assert.equal(a.log.toString(), "hello\n");
  assert.equal(b.stream, "stderr");
  assert.equal(b.partial, true);
  assert.equal(b.log.toString(), "part");
  assert.equal(formatLogTimestamp(a.time), "2016-10-06T00:17:09.669794202Z");
  assert.equal(formatLogTimestamp(b.time), "2016-10-06T00:17:09.669794202Z", "a zero offset prints as Z, as Go's Z07:00");
});

test("offsets and short fractions: kept for the --timestamps prefix, padded to nine digits", () => {
  const t = parseRFC3339Nano("2026-12-03T15:04:05.5+02:00");
  assert.ok(t);
  assert.equal(formatLogTimestamp(t), "2026-12-03T15:04:05.500000000+02:00");
  assert.equal(t.nanos, BigInt(Date.UTC(2026, 11, 3, 13, 4, 5, 500)) * 1_000_000n);
  assert.equal(formatRFC3339Nano(t), "2026-12-03T15:04:05.5+02:00");
  const whole = parseRFC3339Nano("2026-12-03T15:04:05Z");
  assert.ok(whole);
  assert.equal(formatLogTimestamp(whole), "2026-12-03T15:04:05.000000000Z");
  assert.equal(formatRFC3339Nano(whole), "2026-12-03T15:04:05Z");
});

test("bad lines are refused with the kubelet's texts; a tag may carry more fields", () => {
  assert.throws(() => parseCriLogLine(Buffer.from("nospace")), /timestamp is not found/);
  assert.throws(() => parseCriLogLine(Buffer.from("yesterday stdout F x")), /unexpected timestamp format/);
  assert.throws(() => parseCriLogLine(Buffer.from("2016-10-06T00:17:09Z stdin F x")), /unexpected stream type "stdin"/);
  assert.throws(() => parseCriLogLine(Buffer.from("2016-10-06T00:17:09Z stdout")), /stream type is not found/);
  assert.throws(() => parseCriLogLine(Buffer.from("2016-10-06T00:17:09Z stdout F")), /log tag is not found/);
  assert.equal(parseCriLogLine(Buffer.from("2016-10-06T00:17:09Z stdout P:x y\n")).partial, true);
  assert.equal(parseCriLogLine(Buffer.from("2016-10-06T00:17:09Z stdout F \n")).log.toString(), "\n");
});

test("P chunks join up to their F", () => {
  const lines = ["2016-10-06T00:17:09Z stdout P ab\n", "2016-10-06T00:17:10Z stdout P cd\n", "2016-10-06T00:17:11Z stdout F ef\n", "2016-10-06T00:17:12Z stderr F gh\n"];
  const joined = joinPartials(lines.map((l) => parseCriLogLine(Buffer.from(l))));
  assert.deepEqual(joined.map((m) => [m.stream, m.log.toString(), formatRFC3339Nano(m.time)]), [
    ["stdout", "abcdef\n", "2016-10-06T00:17:09Z"], ["stderr", "gh\n", "2016-10-06T00:17:12Z"],
  ]);
});

test("the encoder writes F lines, cuts long lines into P chunks and flushes the rest as P", () => {
  let ms = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  const enc = new CriLogEncoder("stdout", () => logTimeFromMillis(ms++), 4);
  const out = [...enc.write(Buffer.from("hi\nabcdefgh")), ...enc.write(Buffer.from("ij\nrest")), ...enc.flush()].map(String);
  assert.deepEqual(out, [
    "2026-01-02T03:04:05.006Z stdout F hi\n",
    "2026-01-02T03:04:05.007Z stdout P abcd\n",
    "2026-01-02T03:04:05.008Z stdout P efgh\n",
    "2026-01-02T03:04:05.009Z stdout F ij\n",
    "2026-01-02T03:04:05.01Z stdout P rest\n",
  ]);
});
