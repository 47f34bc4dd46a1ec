/**
 * A quantity as apimachinery's `Quantity.String()` prints it (its canonical form), for messages
 * that quote a limit: `1Gi` stays `1Gi`, `1.5Gi` is `1536Mi`, `2048Mi` is `2Gi`, `1000M` is `1G`,
 * `0.5` is `500m`. The suffix kind (binary, decimal, exponent) is the one the quantity was written with.
 */
import { parseQuantity, type Quantity } from "../../api/index.js";

const BINARY = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
const DECIMAL: Record<number, string> = { [-9]: "n", [-6]: "u", [-3]: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E" };

/** value = mantissa x 10^exp with exp a multiple of 3 and mantissa an integer, exp as large as it goes. */
function decimalParts(value: number): { mantissa: bigint; exp: number } {
  // nano units, the smallest apimachinery prints; values are rounded up to them as it does
  let mantissa = BigInt(Math.ceil(Math.round(value * 1e9 * 1e3) / 1e3));
  let exp = -9;
  if (mantissa === 0n) return { mantissa, exp: 0 };
  while (exp < 18 && mantissa % 1000n === 0n) {
    mantissa /= 1000n;
    exp += 3;
  }
  return { mantissa, exp };
}

export function quantityString(q: Quantity): string {
  const text = String(q).trim();
  const value = parseQuantity(q);
  const suffix = /[0-9.]([a-zA-Z].*)?$/.exec(text)?.[1] ?? "";
  const exponentForm = /^[eE]/.test(suffix);
  if (BINARY.includes(suffix) && suffix !== "" && Number.isInteger(value) && Math.abs(value) >= 1024) {
    let n = BigInt(value);
    let i = 0;
    while (i < BINARY.length - 1 && n % 1024n === 0n) {
      n /= 1024n;
      i++;
    }
    return `${n}${BINARY[i] ?? ""}`;
  }
  const { mantissa, exp } = decimalParts(value);
  if (exponentForm) return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
  return `${mantissa}${DECIMAL[exp] ?? `e${exp}`}`;
}
