/**
 * Platforms and picking an image index's manifest for one (containerd/platforms).
 *
 * Platforms are compared in normal form (`normalizePlatform`): `x86_64` → `amd64`,
 * `aarch64` → `arm64` (variant `v8` is the default and left out), `armhf` → `arm/v7`,
 * `armel` → `arm/v6`, `i386`/`i686` → `386`, a bare `arm` is `arm/v7`, `amd64/v1` is `amd64`.
 *
 * `platformMatcher(want)` ranks a candidate by its place in containerd's `platforms.Only`
 * vector, best first:
 * - `arm64/v8.x` → `arm64/v8.(x-1)` … `arm64/v8` → `arm/v8`, `arm/v7`, `arm/v6`, `arm/v5`
 *   (`arm64/v9.x` → `v9.(x-1)` … `v9` → `v8.(x+5)` … first);
 * - `arm/vN` → `arm/v(N-1)` … `arm/v5`;
 * - `amd64/vN` → `amd64/v(N-1)` … `amd64` → `386`.
 * With `strict` only the platform itself matches (`platforms.OnlyStrict`).
 */
import { endianness } from "node:os";
import { InvalidArgumentError, NotFoundError } from "../errdefs/index.js";
import type { Descriptor, ImageIndex, Platform } from "./manifest.js";

/** Ranks a candidate platform: 0 is the wanted platform itself, higher is a worse fallback, undefined no match. */
export type PlatformMatcher = (candidate: Platform) => number | undefined;

const KNOWN_OS = new Set([
  "aix", "android", "darwin", "dragonfly", "freebsd", "hurd", "illumos", "ios", "js", "linux", "nacl", "netbsd", "openbsd", "plan9",
  "solaris", "windows", "zos",
]);
const KNOWN_ARCH = new Set([
  "386", "amd64", "amd64p32", "arm", "armbe", "arm64", "arm64be", "ppc64", "ppc64le", "loong64", "mips", "mipsle", "mips64", "mips64le",
  "mips64p32", "mips64p32le", "ppc", "riscv", "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm",
]);

function normalizeOs(os: string): string {
  const lower = os.toLowerCase();
  return lower === "macos" ? "darwin" : lower;
}

/** `8` → `v8`, `v8.0` → `v8`: the variant spelled as containerd compares it. */
function canonicalVersion(variant: string): string {
  const m = /^v?(\d+)(?:\.(\d+))?$/.exec(variant);
  if (!m) return variant;
  return m[2] === undefined || m[2] === "0" ? `v${m[1]}` : `v${m[1]}.${m[2]}`;
}

function normalizeArch(arch: string, variant: string): { architecture: string; variant: string } {
  const a = arch.toLowerCase();
  const v = variant.toLowerCase();
  switch (a) {
    case "i386":
    case "i686":
      return { architecture: "386", variant: "" };
    case "x86_64":
    case "x86-64":
    case "amd64": {
      const cv = canonicalVersion(v);
      return { architecture: "amd64", variant: cv === "v1" ? "" : cv };
    }
    case "aarch64":
    case "arm64": {
      const cv = canonicalVersion(v);
      return { architecture: "arm64", variant: cv === "v8" ? "" : cv };
    }
    case "armhf":
      return { architecture: "arm", variant: "v7" };
    case "armel":
      return { architecture: "arm", variant: "v6" };
    case "arm":
      return { architecture: "arm", variant: v === "" ? "v7" : canonicalVersion(v) };
    default:
      return { architecture: a, variant: v };
  }
}

/**
 * The platform in normal form: OS and architecture lower-cased and de-aliased, the
 * default variant of arm64 (`v8`) and amd64 (`v1`) left out, arm's made explicit (`v7`),
 * `os.features` sorted without duplicates. An empty OS becomes this host's.
 */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os === "" ? hostOs(process.platform) : normalizeOs(p.os);
  const { architecture, variant } = normalizeArch(p.architecture, p.variant ?? "");
  const out: Platform = { architecture, os };
  if (variant !== "") out.variant = variant;
  if (p["os.version"] !== undefined && p["os.version"] !== "") out["os.version"] = p["os.version"];
  if (p["os.features"] !== undefined && p["os.features"].length > 0) out["os.features"] = [...new Set(p["os.features"])].sort();
  return out;
}

function hostOs(platform: string): string {
  return platform === "win32" ? "windows" : platform;
}

/** Where `hostPlatform` reads from; the defaults are this process's. */
export interface HostPlatformSource {
  /** `process.arch` */
  arch?: string;
  /** `process.platform` */
  platform?: string;
  /** Node's `arm_version` build variable ("6", "7"): the variant on 32-bit arm */
  armVersion?: string;
}

/** The platform this process runs on, in normal form: `linux/amd64`, `linux/arm64`, `linux/arm/v7`. */
export function hostPlatform(from: HostPlatformSource = {}): Platform {
  const arch = from.arch ?? process.arch;
  const os = hostOs(from.platform ?? process.platform);
  const names: Record<string, string> = {
    x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips: "mips",
    mipsel: "mipsle", ppc: "ppc", s390: "s390",
  };
  let architecture = names[arch] ?? arch;
  if (arch === "ppc64") architecture = endianness() === "LE" ? "ppc64le" : "ppc64";
  let variant = "";
  if (architecture === "arm") {
    const v = from.armVersion ?? String((process.config.variables as Record<string, unknown>).arm_version ?? "7");
    variant = /^\d+$/.test(v) ? `v${v}` : "v7";
  }
  return normalizePlatform({ architecture, os, ...(variant ? { variant } : {}) });
}

const OS_PART = /^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)\))?$/;
const PART = /^[A-Za-z0-9_.-]+$/;
const WANT = "want os[/arch[/variant]], e.g. linux/arm64/v8";

/**
 * Parses `os[(os.version)][/arch[/variant]]` or a bare architecture (containerd's
 * `platforms.Parse`), in normal form: `linux/arm64/v8` → `{ os: "linux", architecture: "arm64" }`.
 * A bare OS takes this host's architecture; a bare architecture this host's OS.
 */
export function parsePlatform(specifier: string): Platform {
  const bad = (why: string): InvalidArgumentError => new InvalidArgumentError(`invalid platform ${JSON.stringify(specifier)}: ${why}; ${WANT}`);
  if (specifier.trim() === "") throw bad("it is empty");
  if (specifier.includes("*")) throw bad("wildcards are not supported");
  const parts = specifier.split("/");
  if (parts.length > 3) throw bad(`${parts.length} components, at most 3 allowed`);
  const osMatch = OS_PART.exec(parts[0] ?? "");
  if (!osMatch) throw bad(parts[0] === "" ? "the OS is empty" : `${JSON.stringify(parts[0])} is not a valid OS`);
  for (const [i, part] of parts.entries()) {
    if (i > 0 && !PART.test(part)) throw bad(part === "" ? `the ${i === 1 ? "architecture" : "variant"} is empty` : `${JSON.stringify(part)} is not a valid ${i === 1 ? "architecture" : "variant"}`);
  }
  const osName = normalizeOs(osMatch[1] ?? "");
  const osVersion = osMatch[2] !== undefined && osMatch[2] !== "" ? { "os.version": osMatch[2] } : {};
  if (parts.length === 1) {
    if (KNOWN_OS.has(osName)) return { ...hostPlatform(), os: osName, ...osVersion };
    if (osMatch[2] !== undefined) throw bad(`unknown operating system ${JSON.stringify(osMatch[1])}`);
    const { architecture, variant } = normalizeArch(parts[0] ?? "", "");
    if (!KNOWN_ARCH.has(architecture)) throw bad(`unknown operating system or architecture ${JSON.stringify(parts[0])}`);
    return normalizePlatform({ os: hostPlatform().os, architecture, ...(variant ? { variant } : {}) });
  }
  return normalizePlatform({ os: osName, architecture: parts[1] ?? "", ...(parts[2] !== undefined ? { variant: parts[2] } : {}), ...osVersion });
}

/** `os/arch[/variant]`, e.g. `linux/arm/v7`; `unknown` without an OS. */
export function formatPlatform(p: Platform): string {
  if (p.os === "") return "unknown";
  return [p.os, p.architecture, p.variant ?? ""].filter((s) => s !== "").join("/");
}

function withVariant(p: Platform, architecture: string, variant: string): Platform {
  const { variant: _drop, ...rest } = p;
  return variant === "" ? { ...rest, architecture } : { ...rest, architecture, variant };
}

/** containerd's `platformVector`: the wanted platform, then what it can also run, best first. */
function platformVector(p: Platform): Platform[] {
  const vector: Platform[] = [p];
  const variant = p.variant ?? "";
  switch (p.architecture) {
    case "amd64": {
      const n = /^v(\d+)$/.exec(variant);
      if (n) for (let v = Number(n[1]) - 1; v >= 1; v--) vector.push(withVariant(p, "amd64", v === 1 ? "" : `v${v}`));
      vector.push(withVariant(p, "386", ""));
      break;
    }
    case "arm": {
      const n = /^v(\d+)$/.exec(variant);
      if (n) for (let v = Number(n[1]) - 1; v >= 5; v--) vector.push(withVariant(p, "arm", `v${v}`));
      break;
    }
    case "arm64": {
      let armVariant = variant === "" ? "v8" : variant;
      const m = /^v(\d+)(?:\.(\d+))?$/.exec(armVariant);
      if (m && Number(m[1]) >= 8) {
        let major = Number(m[1]);
        let minor = m[2] === undefined ? 0 : Number(m[2]);
        if (major === 9) {
          for (let x = minor - 1; x >= 0; x--) vector.push(withVariant(p, "arm64", x === 0 ? "v9" : `v9.${x}`));
          // v9.0 diverged from v8.5: v9.x runs v8.(x+5)
          minor += 5;
          major = 8;
          vector.push(withVariant(p, "arm64", `v8.${minor}`));
        }
        for (let x = minor - 1; x >= 0; x--) vector.push(withVariant(p, "arm64", x === 0 ? `v${major}` : `v${major}.${x}`));
      }
      if (armVariant.startsWith("v8.") || armVariant.startsWith("v9.")) armVariant = "v8";
      vector.push(...platformVector(withVariant(p, "arm", armVariant)));
      break;
    }
  }
  return vector.map(normalizePlatform);
}

/** The build of a Windows `os.version` (`10.0.17763.1234` → `10.0.17763`). */
function windowsBuild(v: string | undefined): string {
  return (v ?? "").split(".").slice(0, 3).join(".");
}

function matches(want: Platform, candidate: Platform): boolean {
  if (want.os !== candidate.os || want.architecture !== candidate.architecture || (want.variant ?? "") !== (candidate.variant ?? "")) return false;
  if (want.os === "windows" && want["os.version"] !== undefined && candidate["os.version"] !== undefined) {
    if (windowsBuild(want["os.version"]) !== windowsBuild(candidate["os.version"])) return false;
  }
  const have = new Set(want["os.features"] ?? []);
  return (candidate["os.features"] ?? []).every((f) => have.has(f));
}

/**
 * A ranking function for `want` (containerd's `platforms.Only`, or `OnlyStrict` with
 * `strict`): 0 for `want` itself, n for the n-th fallback of the vector, undefined when
 * the candidate cannot run here.
 */
export function platformMatcher(want: Platform, opts: { strict?: boolean } = {}): PlatformMatcher {
  const normal = normalizePlatform(want);
  const vector = opts.strict ? [normal] : platformVector(normal);
  return (candidate) => {
    const c = normalizePlatform(candidate);
    const i = vector.findIndex((v) => matches(v, c));
    return i === -1 ? undefined : i;
  };
}

/** Attestation manifests (BuildKit's provenance and SBOMs) sit in indexes as `unknown/unknown`. */
function isAttestation(d: Descriptor): boolean {
  return (d.platform?.os === "unknown" && d.platform.architecture === "unknown") || d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest";
}

export interface SelectManifestOptions {
  /** the index's digest, named in the error */
  digest?: string;
  /** match `want` only, no fallbacks */
  strict?: boolean;
}

/**
 * The index entry that best fits `want`: the best rank wins, the first in index order
 * among equals. Attestations (`unknown/unknown`) and entries without a platform are
 * skipped. A nested index comes back as it is; the caller fetches it and selects again.
 * Throws NotFoundError naming the platforms the index has.
 */
export function selectManifest(index: ImageIndex, want: Platform, opts: SelectManifestOptions = {}): Descriptor {
  const rank = platformMatcher(want, opts.strict === undefined ? {} : { strict: opts.strict });
  let best: { desc: Descriptor; rank: number } | undefined;
  const available: string[] = [];
  for (const desc of index.manifests) {
    if (desc.platform === undefined || isAttestation(desc)) continue;
    const shown = formatPlatform(normalizePlatform(desc.platform));
    if (!available.includes(shown)) available.push(shown);
    const r = rank(desc.platform);
    if (r !== undefined && (best === undefined || r < best.rank)) best = { desc, rank: r };
  }
  if (best) return best.desc;
  const where = opts.digest !== undefined ? `index ${opts.digest}` : "the index";
  throw new NotFoundError(
    `no manifest for platform ${formatPlatform(normalizePlatform(want))} in ${where}; available: ${available.length > 0 ? available.join(", ") : "none"}`,
  );
}
