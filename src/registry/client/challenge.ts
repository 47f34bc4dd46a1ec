/**
 * `WWW-Authenticate` challenges (RFC 9110 §11.6.1), as registries send them:
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`
 * or `Basic realm="Registry"`. One header may carry several challenges separated by
 * commas, and quoted values may contain commas, so this is a small tokenizer rather
 * than a split.
 */

export interface Challenge {
  /** the auth scheme, lower-cased: "bearer", "basic", ... */
  scheme: string;
  /** auth-params by lower-cased name, quoted values unescaped */
  params: Record<string, string>;
  /** a token68 credential instead of params (rare for challenges) */
  token68?: string;
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*/;

class Cursor {
  readonly #s: string;
  pos = 0;
  constructor(s: string) {
    this.#s = s;
  }
  get done(): boolean {
    return this.pos >= this.#s.length;
  }
  peek(): string {
    return this.#s[this.pos] ?? "";
  }
  skipSpace(): void {
    while (this.peek() === " " || this.peek() === "\t") this.pos++;
  }
  skipSeparators(): void {
    while (this.peek() === " " || this.peek() === "\t" || this.peek() === ",") this.pos++;
  }
  token(): string {
    const start = this.pos;
    while (!this.done && TCHAR.test(this.peek())) this.pos++;
    return this.#s.slice(start, this.pos);
  }
  token68(): string | undefined {
    const m = TOKEN68.exec(this.#s.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  quoted(): string {
    this.pos++; // opening quote
    let out = "";
    while (!this.done && this.peek() !== '"') {
      if (this.peek() === "\\") this.pos++;
      out += this.peek();
      this.pos++;
    }
    this.pos++; // closing quote (or end of input)
    return out;
  }
  /** True when an auth-param (`token BWS "="`, not `token68==`) starts here. */
  atParam(): boolean {
    const save = this.pos;
    const name = this.token();
    this.skipSpace();
    const isParam = name !== "" && this.peek() === "=";
    if (isParam) {
      // `abc==` with nothing after is a token68, `abc=x` or `abc="x"` is a param
      this.pos++;
      this.skipSpace();
      const next = this.peek();
      this.pos = save;
      return next !== "=" && next !== "" && next !== ",";
    }
    this.pos = save;
    return false;
  }
}

function parseParams(c: Cursor, challenge: Challenge): void {
  for (;;) {
    c.skipSpace();
    if (!c.atParam()) return;
    const name = c.token().toLowerCase();
    c.skipSpace();
    c.pos++; // "="
    c.skipSpace();
    challenge.params[name] = c.peek() === '"' ? c.quoted() : c.token();
    c.skipSpace();
    if (c.peek() !== ",") return;
    c.skipSeparators();
    // after a comma either another param of this challenge or the next challenge's scheme
    if (!c.atParam()) return;
  }
}

/** Parses one or more `WWW-Authenticate` header values into challenges, in order. */
export function parseChallenges(header: string | readonly string[] | null | undefined): Challenge[] {
  if (header === null || header === undefined) return [];
  const values = typeof header === "string" ? [header] : header;
  const out: Challenge[] = [];
  for (const value of values) {
    const c = new Cursor(value);
    while (!c.done) {
      c.skipSeparators();
      const scheme = c.token();
      if (scheme === "") {
        if (!c.done) c.pos++; // stray character: skip it
        continue;
      }
      const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
      out.push(challenge);
      c.skipSpace();
      if (c.done || c.peek() === ",") continue;
      if (c.atParam()) {
        parseParams(c, challenge);
      } else {
        const t68 = c.token68();
        if (t68 !== undefined) challenge.token68 = t68;
      }
    }
  }
  return out;
}

/** The Bearer challenge's realm, service and scopes; undefined without a usable realm. */
export interface BearerChallenge {
  realm: string;
  service: string | undefined;
  /** scopes the registry asked for (space-separated in the header) */
  scopes: string[];
  /** `insufficient_scope`, `invalid_token`, ... when the token sent was not good enough */
  error: string | undefined;
}

export function bearerChallenge(challenges: readonly Challenge[]): BearerChallenge | undefined {
  const c = challenges.find((x) => x.scheme === "bearer" && x.params.realm);
  if (!c?.params.realm) return undefined;
  return {
    realm: c.params.realm,
    service: c.params.service,
    scopes: (c.params.scope ?? "").split(" ").filter((s) => s !== ""),
    error: c.params.error,
  };
}

export function hasBasicChallenge(challenges: readonly Challenge[]): boolean {
  return challenges.some((c) => c.scheme === "basic");
}
