/**
 * An htpasswd credential file, as distribution's htpasswd access controller reads it:
 * one `user:hash` per line, blank lines and `#` comments skipped, bcrypt hashes only
 * (`$2y$`, `$2b$`, `$2a$`, as `htpasswd -B` writes them). Any other hash kind (MD5
 * `$apr1$`, SHA1 `{SHA}`, crypt, plain text) is refused when the file is loaded.
 *
 * bcrypt is deliberately slow, and Basic-auth clients resend the password on every
 * request, so successful checks are remembered for a short while (keyed by an HMAC
 * of user and password under a per-process random key, never the password itself),
 * and concurrent checks of the same credentials share one bcrypt run.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import bcrypt from "bcryptjs";
import { realClock, type Clock } from "../../../clock/index.js";
import { InvalidArgumentError } from "../../../errdefs/index.js";

/** How long a successful verification is remembered (ms). */
export const DEFAULT_VERIFY_CACHE_TTL_MS = 60_000;
const MAX_CACHE_ENTRIES = 1024;

const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export interface HtpasswdOptions {
  clock?: Clock;
  /** how long a successful check is remembered; 0 turns the cache off */
  cacheTtlMs?: number;
  /** where the text came from, for error messages */
  source?: string;
  /** the bcrypt comparison (default bcryptjs's); tests count calls through it */
  compare?: (password: string, hash: string) => Promise<boolean>;
}

export class Htpasswd {
  readonly #entries: Map<string, string>;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #cacheKey = randomBytes(32);
  /** HMAC(user, password) -> time (ms) the verification stops counting */
  readonly #verified = new Map<string, number>();
  readonly #inflight = new Map<string, Promise<boolean>>();
  #dummyHash: Promise<string> | undefined;
  readonly #compare: (password: string, hash: string) => Promise<boolean>;

  private constructor(entries: Map<string, string>, opts: HtpasswdOptions) {
    this.#entries = entries;
    this.#clock = opts.clock ?? realClock;
    this.#ttlMs = opts.cacheTtlMs ?? DEFAULT_VERIFY_CACHE_TTL_MS;
    this.#compare = opts.compare ?? ((password, hash) => bcrypt.compare(password, hash));
  }

  /** Reads and parses an htpasswd file; rejects a malformed or non-bcrypt line naming file and line. */
  static async load(path: string, opts: Omit<HtpasswdOptions, "source"> = {}): Promise<Htpasswd> {
    const text = await readFile(path, "utf8");
    return Htpasswd.parse(text, { ...opts, source: path });
  }

  /** Parses htpasswd text; throws InvalidArgumentError for a malformed or non-bcrypt line. */
  static parse(text: string, opts: HtpasswdOptions = {}): Htpasswd {
    const source = opts.source ?? "htpasswd";
    const entries = new Map<string, string>();
    const lines = text.split(/\r?\n/);
    for (const [i, raw] of lines.entries()) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const where = `${source}:${i + 1}`;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new InvalidArgumentError(`${where}: expected "user:hash"`);
      const user = line.slice(0, colon);
      const hash = line.slice(colon + 1);
      if (!BCRYPT_HASH.test(hash)) {
        throw new InvalidArgumentError(
          `${where}: user ${JSON.stringify(user)} has a ${hashKind(hash)} hash; only bcrypt is supported (create entries with "htpasswd -B")`,
        );
      }
      // distribution keeps the last entry for a user; so do we
      entries.set(user, hash);
    }
    return new Htpasswd(entries, opts);
  }

  get users(): string[] {
    return [...this.#entries.keys()];
  }

  has(user: string): boolean {
    return this.#entries.has(user);
  }

  /** True when `password` is `user`'s password. Unknown users cost a bcrypt run too. */
  async verify(user: string, password: string): Promise<boolean> {
    const key = createHmac("sha256", this.#cacheKey).update(user).update("\0").update(password).digest("base64");
    const now = this.#clock.now();
    const until = this.#verified.get(key);
    if (until !== undefined) {
      if (now < until && this.#entries.has(user)) return true;
      this.#verified.delete(key);
    }
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const check = this.#check(user, password).finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, check);
    const ok = await check;
    if (ok && this.#ttlMs > 0) this.#remember(key, this.#clock.now() + this.#ttlMs);
    return ok;
  }

  async #check(user: string, password: string): Promise<boolean> {
    const hash = this.#entries.get(user);
    if (hash === undefined) {
      // spend the same time as for a known user, so timing does not reveal who exists
      await this.#compare(password, await this.#dummy());
      return false;
    }
    // bcryptjs compares the computed hash with the stored one in constant time
    return this.#compare(password, hash);
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= (async () => {
      const first = this.#entries.values().next();
      const rounds = first.done ? 10 : bcrypt.getRounds(first.value);
      return bcrypt.hash(randomBytes(16).toString("hex"), rounds);
    })();
    return this.#dummyHash;
  }

  #remember(key: string, until: number): void {
    this.#verified.delete(key);
    if (this.#verified.size >= MAX_CACHE_ENTRIES) {
      const now = this.#clock.now();
      for (const [k, t] of this.#verified) if (t <= now) this.#verified.delete(k);
      // still full: drop the oldest (Map keeps insertion order)
      while (this.#verified.size >= MAX_CACHE_ENTRIES) {
        const oldest = this.#verified.keys().next();
        if (oldest.done) break;
        this.#verified.delete(oldest.value);
      }
    }
    this.#verified.set(key, until);
  }
}

/** A name for a non-bcrypt hash, for the load error. */
function hashKind(hash: string): string {
  if (hash.startsWith("$apr1$")) return "MD5 ($apr1$)";
  if (hash.startsWith("{SHA}")) return "SHA-1 ({SHA})";
  if (hash.startsWith("$1$")) return "MD5-crypt ($1$)";
  if (hash.startsWith("$5$")) return "SHA-256-crypt ($5$)";
  if (hash.startsWith("$6$")) return "SHA-512-crypt ($6$)";
  if (hash.startsWith("$2")) return "malformed bcrypt";
  if (hash === "") return "empty";
  return "crypt or plain-text";
}
