/** Resource quantities as validation reads them: a value, or apimachinery's parse error. */
const FORM = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;
const MULT: Record<string, number> = {
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
};
export const QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

export function quantityValue(q: unknown): { value: number; error?: string } {
  if (typeof q === "number") return Number.isFinite(q) ? { value: q } : { value: NaN, error: QUANTITY_FORMAT_ERROR };
  if (typeof q !== "string") return { value: NaN, error: QUANTITY_FORMAT_ERROR };
  const m = FORM.exec(q);
  if (!m) return { value: NaN, error: QUANTITY_FORMAT_ERROR };
  const num = Number(m[1]);
  const suffix = m[2] ?? "";
  if (suffix === "") return { value: num };
  if (suffix[0] === "e" || suffix[0] === "E") return { value: num * 10 ** Number(suffix.slice(1)) };
  return { value: num * (MULT[suffix] ?? NaN) };
}
