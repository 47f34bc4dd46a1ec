import assert from "node:assert/strict";
import { test } from "node:test";
import { parseQuantity, QuantityFormatError, quantityMilli, quantityValue } from "../../src/api/index.js";

test("binary, decimal and exponent suffixes give the base-unit value", () => {
  const cases: [string | number, number][] = [
    ["64Mi", 64 * 2 ** 20], ["1Ki", 1024], ["2Gi", 2 * 2 ** 30], ["1.5Gi", 1.5 * 2 ** 30],
    ["500m", 0.5], ["1", 1], ["1k", 1000], ["128M", 128e6], ["1G", 1e9],
    ["1e3", 1000], ["1E-3", 0.001], ["-2", -2], ["+3", 3], [".5", 0.5], ["100n", 100e-9], [2, 2],
  ];
  for (const [input, want] of cases) assert.equal(parseQuantity(input), want, String(input));
});

test("text that is not a quantity is refused with apimachinery's message", () => {
  for (const bad of ["", "abc", "1Qi", "10 Mi", "1.2.3", "Mi", "1ki"]) {
    assert.throws(() => parseQuantity(bad), (e: unknown) => e instanceof QuantityFormatError && /quantities must match the regular expression/.test(e.message), bad);
  }
});

test("milli and whole values round up as MilliValue and Value do", () => {
  assert.equal(quantityMilli("250m"), 250);
  assert.equal(quantityMilli("1"), 1000);
  assert.equal(quantityMilli("0.1m"), 1);
  assert.equal(quantityMilli("1.5"), 1500);
  assert.equal(quantityValue("1.5"), 2);
  assert.equal(quantityValue("64Mi"), 67108864);
});
