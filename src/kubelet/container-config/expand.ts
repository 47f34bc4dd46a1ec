/**
 * Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion): `$$` is an escaped `$`,
 * `$(name)` is replaced through `mapping` (left as written when undefined), and any other `$`
 * is copied as is. Values are never expanded again.
 */
const OPERATOR = "$";
const REF_OPEN = "(";
const REF_CLOSE = ")";

/** Reads the reference after a `$`: the text to emit (or the name to look up) and how far it went. */
function tryReadVariableName(input: string): { name: string; isVar: boolean; advance: number } {
  const first = input[0];
  if (first === OPERATOR) return { name: OPERATOR, isVar: false, advance: 1 };
  if (first === REF_OPEN) {
    const close = input.indexOf(REF_CLOSE, 1);
    if (close > 0) return { name: input.slice(1, close), isVar: true, advance: close + 1 };
    // No closing paren: the `$(` is copied and the rest read on.
    return { name: OPERATOR + REF_OPEN, isVar: false, advance: 1 };
  }
  return { name: OPERATOR + (first ?? ""), isVar: false, advance: first === undefined ? 0 : 1 };
}

export function expand(input: string, mapping: (name: string) => string | undefined): string {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== OPERATOR || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const read = tryReadVariableName(input.slice(cursor + 1));
    if (read.isVar) {
      const value = mapping(read.name);
      out += value ?? `${OPERATOR}${REF_OPEN}${read.name}${REF_CLOSE}`;
    } else out += read.name;
    cursor += read.advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/** A mapping over env lists where the first found wins (`MappingFuncFor`). */
export function mappingFor(...contexts: Map<string, string>[]): (name: string) => string | undefined {
  return (name) => {
    for (const c of contexts) {
      const v = c.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
}
