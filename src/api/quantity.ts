/**
 * Kubernetes resource quantities (apimachinery `resource.Quantity`): a signed decimal number
 * followed by a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal one (n u m k M G T P E) or an
 * exponent (`1e3`, `1E-3`). Returned as a plain number: podyard's limits fit a double.
 */
import type { Quantity } from "./core-v1.js";

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
/** Decimal suffixes as powers of ten (dividing for the negative ones keeps `100n` exactly 1e-7). */
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

function scale(num: number, exp: number): number {
  return exp >= 0 ? num * 10 ** exp : num / 10 ** -exp;
}

const FORM = /^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+))(.*)$/;
const EXPONENT = /^[eE]([+-]?[0-9]+)$/;

/** The error apimachinery gives for text that is not a quantity (`resource.ErrFormatWrong`). */
export class QuantityFormatError extends Error {
  constructor(readonly input: string) {
    super(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    this.name = "QuantityFormatError";
  }
}

/** The value of a quantity in base units (bytes, cores): `"64Mi"` → 67108864, `"500m"` → 0.5. */
export function parseQuantity(q: Quantity): number {
  if (typeof q === "number") {
    if (!Number.isFinite(q)) throw new QuantityFormatError(String(q));
    return q;
  }
  const text = q.trim();
  const m = FORM.exec(text);
  if (!m || text !== q) throw new QuantityFormatError(q);
  const num = Number(m[1]);
  const suffix = m[2] ?? "";
  const binary = BINARY[suffix];
  if (binary !== undefined) return num * binary;
  const decimal = Object.hasOwn(DECIMAL, suffix) ? DECIMAL[suffix] : undefined;
  if (decimal !== undefined) return scale(num, decimal);
  const e = EXPONENT.exec(suffix);
  if (e) return scale(num, Number(e[1]));
  throw new QuantityFormatError(q);
}

/** The value in thousandths, rounded up as apimachinery's `MilliValue` does: `"250m"` → 250, `"1"` → 1000. */
export function quantityMilli(q: Quantity): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e9) / 1e6);
}

/** The value rounded up to a whole unit, as apimachinery's `Value` does: `"1.5"` → 2. */
export function quantityValue(q: Quantity): number {
  return Math.ceil(Math.round(parseQuantity(q) * 1e6) / 1e6);
}
