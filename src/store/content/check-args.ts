/**
 * The argument checks every content store makes, so each implementation refuses the same
 * input with the same InvalidArgumentError (or OutOfRangeError for a read past the end).
 */
import { InvalidArgumentError, OutOfRangeError } from "../../errdefs/index.js";
import { parseDigest, type Digest } from "../../oci/index.js";
import type { CommitOptions, ReadRange, WriterOptions } from "./content.js";
import { validateLabels } from "./validate-labels.js";

export function checkDigest(d: unknown, what: string): Digest {
  try {
    return parseDigest(String(d));
  } catch (err) {
    throw new InvalidArgumentError(`${what} digest ${JSON.stringify(d)}: ${(err as Error).message}`, { cause: err });
  }
}

export function checkRef(ref: unknown, what: string): string {
  if (typeof ref !== "string" || ref === "") throw new InvalidArgumentError(`${what}: ref must be a non-empty string`);
  return ref;
}

export function checkSize(n: unknown, what: string): number {
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${what}: ${String(n)} must be a non-negative integer`);
  return n;
}

/** What a writer is opened with, checked: its ref and, when announced, the digest and size expected. */
export function checkWriterOptions(opts: WriterOptions): { ref: string; expected: Digest | undefined; total: number | undefined } {
  const ref = checkRef(opts?.ref, "writer");
  let expected: Digest | undefined;
  let total: number | undefined;
  if (opts.expected !== undefined) {
    expected = checkDigest(opts.expected.digest, `writer of ref ${ref}: expected`);
    if (opts.expected.size !== undefined) total = checkSize(opts.expected.size, `writer of ref ${ref}: expected size`);
  }
  return { ref, expected, total };
}

/** What a commit of `ref` expects, checked: its digest and, when given, its labels. */
export function checkCommitOptions(ref: string, expected: CommitOptions): { digest: Digest; labels?: Record<string, string> } {
  const digest = checkDigest(expected.digest, `commit of ref ${ref}: expected`);
  if (expected.size !== undefined && (!Number.isSafeInteger(expected.size) || expected.size < 0)) {
    throw new InvalidArgumentError(`commit of ref ${ref}: expected size ${expected.size} must be a non-negative integer`);
  }
  return expected.labels === undefined ? { digest } : { digest, labels: validateLabels(expected.labels) };
}

/** The bytes `[start, end)` that `range` names in blob `d` of `size` bytes; OutOfRangeError when it does not fit. */
export function checkRange(d: Digest, size: number, range: ReadRange | undefined): { start: number; end: number } {
  const offset = range?.offset ?? 0;
  const length = range?.length;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > size) {
    throw new OutOfRangeError(`read of content ${d} at offset ${offset}: outside its ${size} bytes`);
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new OutOfRangeError(`read of content ${d}: length ${length} must be a non-negative integer`);
  }
  return { start: offset, end: length === undefined ? size : Math.min(size, offset + length) };
}
