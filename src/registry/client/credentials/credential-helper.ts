/**
 * Docker credential helpers (docker/docker-credential-helpers): a program
 * `docker-credential-<name>` found on PATH, run with one action argument and its input
 * on stdin:
 * - `get`: the server URL in, `{"ServerURL","Username","Secret"}` out; a helper without
 *   credentials for the URL exits non-zero printing "credentials not found in native keychain";
 * - `store`: `{"ServerURL","Username","Secret"}` in;
 * - `erase`: the server URL in.
 * A Username of `<token>` means the Secret is an identity token (a refresh token).
 */
import { spawn } from "node:child_process";
import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from "../../../errdefs/index.js";
import type { Credentials } from "../types.js";

/** How long a helper may run before it is killed (Docker waits without limit; keychain prompts are slow). */
export const DEFAULT_HELPER_TIMEOUT_MS = 30_000;
const MAX_OUTPUT_BYTES = 1 << 20;
/** docker-credential-helpers' `ErrCredentialsNotFound` text, which every helper prints. */
const NOT_FOUND = "credentials not found";

export interface CredentialHelperOptions {
  /** kill the helper after this long; default 30 s */
  timeoutMs?: number;
  /** the helper's environment (and the PATH it is looked up on); default `process.env` */
  env?: NodeJS.ProcessEnv;
}

interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class CredentialHelper {
  readonly #program: string;
  readonly #timeoutMs: number;
  readonly #env: NodeJS.ProcessEnv;

  /** `name` is the part after `docker-credential-`: `pass`, `secretservice`, `ecr-login`. */
  constructor(name: string, opts: CredentialHelperOptions = {}) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new InvalidArgumentError(`invalid credential helper name ${JSON.stringify(name)}: want letters, digits, ".", "_" or "-", as in "pass"`);
    }
    this.#program = `docker-credential-${name}`;
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_HELPER_TIMEOUT_MS;
    this.#env = opts.env ?? process.env;
  }

  /** The program run: `docker-credential-<name>`. */
  get program(): string {
    return this.#program;
  }

  /** The credentials stored for `serverUrl`; undefined when the helper has none. */
  async get(serverUrl: string): Promise<Credentials | undefined> {
    const r = await this.#run("get", serverUrl);
    if (r.code !== 0) {
      if (this.#notFound(r)) return undefined;
      throw this.#failed("get", serverUrl, r);
    }
    let body: unknown;
    try {
      body = JSON.parse(r.stdout);
    } catch {
      throw new UnavailableError(`credential helper ${this.#program} sent output that is not JSON for ${serverUrl}`);
    }
    if (typeof body !== "object" || body === null) throw new UnavailableError(`credential helper ${this.#program} sent no credentials object for ${serverUrl}`);
    const b = body as Record<string, unknown>;
    const username = typeof b.Username === "string" ? b.Username : "";
    const secret = typeof b.Secret === "string" ? b.Secret : "";
    if (username === "" && secret === "") return undefined;
    if (secret === "") throw new UnavailableError(`credential helper ${this.#program} sent an empty Secret for ${serverUrl}`);
    // Username "<token>" marks an identity token: it stays as is, and the Authorizer trades it for tokens
    return { username, password: secret };
  }

  /** Stores credentials for `serverUrl` (`docker login`). */
  async store(serverUrl: string, creds: Credentials): Promise<void> {
    const r = await this.#run("store", JSON.stringify({ ServerURL: serverUrl, Username: creds.username, Secret: creds.password }));
    if (r.code !== 0) throw this.#failed("store", serverUrl, r);
  }

  /** Forgets the credentials for `serverUrl` (`docker logout`); nothing stored is not an error. */
  async erase(serverUrl: string): Promise<void> {
    const r = await this.#run("erase", serverUrl);
    if (r.code !== 0 && !this.#notFound(r)) throw this.#failed("erase", serverUrl, r);
  }

  #notFound(r: HelperResult): boolean {
    return r.stdout.includes(NOT_FOUND) || r.stderr.includes(NOT_FOUND);
  }

  #failed(action: string, serverUrl: string, r: HelperResult): UnavailableError {
    const said = (r.stdout.trim() || r.stderr.trim()).split("\n")[0] ?? "";
    return new UnavailableError(`credential helper ${this.#program} failed to ${action} credentials for ${serverUrl} (exit ${r.code})${said ? `: ${said}` : ""}`);
  }

  #run(action: "get" | "store" | "erase", input: string): Promise<HelperResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.#program, [action], { env: this.#env, stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let size = 0;
      let settled = false;
      let timedOut = false;
      // a wall-clock limit on a child process, not a back-off: it is cleared on every way out
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, this.#timeoutMs);
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        clearTimeout(timer);
        return true;
      };
      const fail = (e: Error): void => {
        if (!settle()) return;
        child.kill("SIGKILL");
        reject(e);
      };
      const collect = (into: Buffer[]) => (chunk: Buffer): void => {
        size += chunk.length;
        if (size > MAX_OUTPUT_BYTES) fail(new UnavailableError(`credential helper ${this.#program} wrote more than ${MAX_OUTPUT_BYTES} bytes on ${action}`));
        else into.push(chunk);
      };
      child.stdout.on("data", collect(out));
      child.stderr.on("data", collect(err));
      child.on("error", (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") {
          fail(new FailedPreconditionError(`credential helper ${this.#program} is not installed: no executable ${this.#program} on PATH`, { cause: e }));
        } else if (e.code === "EACCES") {
          fail(new FailedPreconditionError(`credential helper ${this.#program} cannot be run: permission denied`, { cause: e }));
        } else {
          fail(new UnavailableError(`credential helper ${this.#program} failed to start: ${e.message}`, { cause: e }));
        }
      });
      child.on("close", (code, signal) => {
        if (!settle()) return;
        if (timedOut) {
          reject(new UnavailableError(`credential helper ${this.#program} did not finish ${action} within ${this.#timeoutMs} ms`));
        } else if (signal !== null) {
          reject(new UnavailableError(`credential helper ${this.#program} was killed by ${signal} during ${action}`));
        } else {
          resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") });
        }
      });
      // a helper that exits without reading its input closes the pipe: that is its answer, not an error
      child.stdin.on("error", () => undefined);
      child.stdin.end(input);
    });
  }
}
