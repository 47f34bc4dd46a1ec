/**
 * Label checks, as containerd's `labels.Validate`: a key and its value together may
 * take at most 4096 bytes.
 */
import { InvalidArgumentError } from "../../errdefs/index.js";

export const MAX_LABEL_SIZE = 4096;

/** Returns `labels` as a plain string map, or throws InvalidArgumentError naming the bad label. */
export function validateLabels(labels: unknown): Record<string, string> {
  if (typeof labels !== "object" || labels === null || Array.isArray(labels)) {
    throw new InvalidArgumentError("labels: must be an object of strings");
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k === "") throw new InvalidArgumentError("labels: a label key must not be empty");
    if (typeof v !== "string") throw new InvalidArgumentError(`labels: value of ${JSON.stringify(k)} must be a string`);
    const total = Buffer.byteLength(k) + Buffer.byteLength(v);
    if (total > MAX_LABEL_SIZE) {
      throw new InvalidArgumentError(
        `label key and value length (${total} bytes) greater than maximum size (${MAX_LABEL_SIZE} bytes), key: ${k.slice(0, 10)}`,
      );
    }
    out[k] = v;
  }
  return out;
}
