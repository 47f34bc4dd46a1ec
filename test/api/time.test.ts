/** meta/v1 times as the API writes them. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatMicroTime, formatTime } from "../../src/api/index.js";

test("Time is whole seconds, MicroTime has six fraction digits, both in UTC", () => {
  const ms = Date.UTC(2026, 11, 3, 10, 0, 0, 123);
  assert.equal(formatTime(ms), "2026-12-03T10:00:00Z");
  assert.equal(formatTime(Date.UTC(2026, 11, 3, 10, 0, 0, 999)), "2026-12-03T10:00:00Z");
  assert.equal(formatMicroTime(ms), "2026-12-03T10:00:00.123000Z");
  assert.equal(formatMicroTime(Date.UTC(2026, 11, 3)), "2026-12-03T00:00:00.000000Z");
});
