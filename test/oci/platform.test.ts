import { test } from "node:test";
import assert from "node:assert/strict";
import { isInvalidArgument, isNotFound } from "../../src/errdefs/index.js";
import {
  MediaType,
  type Descriptor,
  type ImageIndex,
  type Platform,
  formatPlatform,
  hostPlatform,
  normalizePlatform,
  parsePlatform,
  platformMatcher,
  selectManifest,
} from "../../src/oci/index.js";

const p = (os: string, architecture: string, variant?: string): Platform => (variant === undefined ? { os, architecture } : { os, architecture, variant });

test("normalizePlatform: aliases, default variants, case", () => {
  const table: [Platform, Platform][] = [
    [p("linux", "x86_64"), p("linux", "amd64")],
    [p("linux", "x86-64"), p("linux", "amd64")],
    [p("linux", "amd64", "v1"), p("linux", "amd64")],
    [p("linux", "amd64", "v3"), p("linux", "amd64", "v3")],
    [p("linux", "aarch64"), p("linux", "arm64")],
    [p("linux", "arm64", "v8"), p("linux", "arm64")],
    [p("linux", "arm64", "8"), p("linux", "arm64")],
    [p("linux", "arm64", "v8.0"), p("linux", "arm64")],
    [p("linux", "arm64", "v8.2"), p("linux", "arm64", "v8.2")],
    [p("linux", "arm64", "v9.0"), p("linux", "arm64", "v9")],
    [p("linux", "armhf"), p("linux", "arm", "v7")],
    [p("linux", "armel"), p("linux", "arm", "v6")],
    [p("linux", "arm"), p("linux", "arm", "v7")],
    [p("linux", "arm", "7"), p("linux", "arm", "v7")],
    [p("linux", "arm", "6"), p("linux", "arm", "v6")],
    [p("linux", "i386"), p("linux", "386")],
    [p("linux", "i686"), p("linux", "386")],
    [p("Linux", "AMD64"), p("linux", "amd64")],
    [p("macos", "arm64"), p("darwin", "arm64")],
    [p("linux", "s390x"), p("linux", "s390x")],
  ];
  for (const [input, want] of table) assert.deepEqual(normalizePlatform(input), want, `${JSON.stringify(input)}`);
  assert.deepEqual(normalizePlatform({ os: "windows", architecture: "amd64", "os.version": "10.0.17763.1", "os.features": ["win32k", "a", "win32k"] }), {
    os: "windows",
    architecture: "amd64",
    "os.version": "10.0.17763.1",
    "os.features": ["a", "win32k"],
  });
});

test("hostPlatform maps Node's process.arch and process.platform", () => {
  assert.deepEqual(hostPlatform({ arch: "x64", platform: "linux" }), p("linux", "amd64"));
  assert.deepEqual(hostPlatform({ arch: "arm64", platform: "linux" }), p("linux", "arm64"));
  assert.deepEqual(hostPlatform({ arch: "arm", platform: "linux", armVersion: "6" }), p("linux", "arm", "v6"));
  assert.deepEqual(hostPlatform({ arch: "arm", platform: "linux", armVersion: "7" }), p("linux", "arm", "v7"));
  assert.deepEqual(hostPlatform({ arch: "ia32", platform: "win32" }), p("windows", "386"));
  assert.deepEqual(hostPlatform({ arch: "s390x", platform: "linux" }), p("linux", "s390x"));
  assert.equal(typeof hostPlatform().architecture, "string");
});

test("parsePlatform: os/arch/variant in normal form, bare OS or architecture", () => {
  assert.deepEqual(parsePlatform("linux/arm64/v8"), p("linux", "arm64"));
  assert.deepEqual(parsePlatform("linux/arm64"), p("linux", "arm64"));
  assert.deepEqual(parsePlatform("linux/arm/v6"), p("linux", "arm", "v6"));
  assert.deepEqual(parsePlatform("linux/arm"), p("linux", "arm", "v7"));
  assert.deepEqual(parsePlatform("linux/x86_64"), p("linux", "amd64"));
  assert.deepEqual(parsePlatform("linux/amd64/v2"), p("linux", "amd64", "v2"));
  assert.deepEqual(parsePlatform("windows(10.0.17763)/amd64"), { os: "windows", architecture: "amd64", "os.version": "10.0.17763" });
  assert.deepEqual(parsePlatform("linux"), { ...hostPlatform(), os: "linux" });
  assert.deepEqual(parsePlatform("aarch64"), { os: hostPlatform().os, architecture: "arm64" });
});

test("parsePlatform: errors name the input and the expected form", () => {
  const cases: [string, string][] = [
    ["", "invalid platform \"\": it is empty; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["linux/*", "invalid platform \"linux/*\": wildcards are not supported; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["linux/arm/v7/x", "invalid platform \"linux/arm/v7/x\": 4 components, at most 3 allowed; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["linux/", "invalid platform \"linux/\": the architecture is empty; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["linux/arm/", "invalid platform \"linux/arm/\": the variant is empty; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["/amd64", "invalid platform \"/amd64\": the OS is empty; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["li nux/amd64", "invalid platform \"li nux/amd64\": \"li nux\" is not a valid OS; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["linux/am d64", "invalid platform \"linux/am d64\": \"am d64\" is not a valid architecture; want os[/arch[/variant]], e.g. linux/arm64/v8"],
    ["potato", "invalid platform \"potato\": unknown operating system or architecture \"potato\"; want os[/arch[/variant]], e.g. linux/arm64/v8"],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parsePlatform(input), (err: Error) => isInvalidArgument(err) && err.message === message, input);
  }
});

test("formatPlatform", () => {
  assert.equal(formatPlatform(p("linux", "amd64")), "linux/amd64");
  assert.equal(formatPlatform(p("linux", "arm", "v7")), "linux/arm/v7");
  assert.equal(formatPlatform(p("", "amd64")), "unknown");
  for (const s of ["linux/amd64", "linux/arm64/v8.2", "linux/arm/v6", "linux/s390x"]) assert.equal(formatPlatform(parsePlatform(s)), s);
});

/** containerd/platforms compare_test.go TestOnly: what each platform also runs. */
const ONLY: [string, string[], string[]][] = [
  ["linux/amd64", ["linux/amd64", "linux/386"], ["linux/amd64/v2", "linux/arm/v7", "linux/arm64", "windows/amd64", "windows/arm"]],
  ["linux/amd64/v2", ["linux/amd64", "linux/amd64/v1", "linux/amd64/v2", "linux/386"], ["linux/amd64/v3", "linux/amd64/v4", "linux/arm/v7", "linux/arm64", "windows/amd64"]],
  ["linux/386", ["linux/386"], ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/amd64"]],
  ["windows/amd64", ["windows/amd64", "windows(10.0.17763)/amd64"], ["linux/amd64", "linux/arm/v7", "linux/arm64", "windows/arm"]],
  ["linux/arm/v8", ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8"], ["linux/amd64", "linux/arm/v4", "linux/arm64", "windows/arm"]],
  ["linux/arm/v7", ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7"], ["linux/amd64", "linux/arm/v4", "linux/arm/v8", "linux/arm64", "windows/arm"]],
  ["linux/arm/v6", ["linux/arm/v5", "linux/arm/v6"], ["linux/amd64", "linux/arm", "linux/arm/v4", "linux/arm/v7", "linux/arm/v8", "linux/arm64"]],
  ["linux/arm/v5", ["linux/arm/v5"], ["linux/amd64", "linux/arm", "linux/arm/v4", "linux/arm/v6", "linux/arm/v7", "linux/arm64"]],
  ["linux/arm/v4", ["linux/arm/v4"], ["linux/amd64", "linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm64"]],
  [
    "linux/arm64/v9",
    ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8", "linux/arm64", "linux/arm64/v8", "linux/arm64/v8.1", "linux/arm64/v8.2",
      "linux/arm64/v8.3", "linux/arm64/v8.4", "linux/arm64/v8.5", "linux/arm64/v9", "linux/arm64/v9.0"],
    ["linux/amd64", "linux/arm/v4", "windows/amd64", "windows/arm", "linux/arm64/v8.6"],
  ],
  [
    "linux/arm64/v8.1",
    ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8", "linux/arm64", "linux/arm64/v8", "linux/arm64/v8.1"],
    ["linux/amd64", "linux/arm/v4", "linux/arm/v9", "linux/arm64/v9", "linux/arm64/v8.2", "windows/arm"],
  ],
  [
    "linux/arm64",
    ["linux/arm", "linux/arm/v5", "linux/arm/v6", "linux/arm/v7", "linux/arm/v8", "linux/arm64", "linux/arm64/v8"],
    ["linux/amd64", "linux/arm/v4", "linux/arm/v9", "linux/arm64/v9", "linux/arm64/v8.1", "windows/arm"],
  ],
];

test("platformMatcher matches what containerd's platforms.Only matches", () => {
  for (const [want, yes, no] of ONLY) {
    const rank = platformMatcher(parsePlatform(want));
    for (const c of yes) assert.notEqual(rank(parsePlatform(c)), undefined, `${want} should run ${c}`);
    for (const c of no) assert.equal(rank(parsePlatform(c)), undefined, `${want} should not run ${c}`);
  }
});

test("platformMatcher ranks the fallbacks in containerd's order", () => {
  const order = (want: string, candidates: string[]): (number | undefined)[] => {
    const rank = platformMatcher(parsePlatform(want));
    return candidates.map((c) => rank(parsePlatform(c)));
  };
  assert.deepEqual(
    order("linux/arm64/v8.2", ["linux/arm64/v8.2", "linux/arm64/v8.1", "linux/arm64", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]),
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual(order("linux/arm/v7", ["linux/arm/v7", "linux/arm/v6", "linux/arm/v5"]), [0, 1, 2]);
  assert.deepEqual(order("linux/amd64/v3", ["linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386"]), [0, 1, 2, 3]);
  assert.deepEqual(order("linux/arm64/v9.1", ["linux/arm64/v9.1", "linux/arm64/v9", "linux/arm64/v8.6", "linux/arm64/v8.5", "linux/arm64"]), [0, 1, 2, 3, 8]);
  // aliases in the candidates are normalised too
  assert.equal(platformMatcher(p("linux", "arm64"))({ os: "linux", architecture: "aarch64", variant: "v8" }), 0);
  assert.equal(platformMatcher(p("linux", "amd64"))({ os: "linux", architecture: "i386" }), 1);
});

test("platformMatcher: strict matches the platform alone (OnlyStrict)", () => {
  const strict: [string, string[], string[]][] = [
    ["linux/amd64", ["linux/amd64", "linux/amd64/v1"], ["linux/386", "linux/arm/v7", "windows/amd64"]],
    ["linux/arm/v7", ["linux/arm", "linux/arm/v7"], ["linux/arm/v5", "linux/arm/v6", "linux/arm/v8"]],
    ["linux/arm64", ["linux/arm64", "linux/arm64/v8"], ["linux/arm", "linux/arm/v8", "linux/arm64/v8.1"]],
    ["linux/arm64/v9", ["linux/arm64/v9", "linux/arm64/v9.0"], ["linux/arm64/v8", "linux/arm64/v8.1", "linux/arm/v8"]],
  ];
  for (const [want, yes, no] of strict) {
    const rank = platformMatcher(parsePlatform(want), { strict: true });
    for (const c of yes) assert.equal(rank(parsePlatform(c)), 0, `${want} strictly runs ${c}`);
    for (const c of no) assert.equal(rank(parsePlatform(c)), undefined, `${want} strictly does not run ${c}`);
  }
});

test("platformMatcher: Windows builds and OS features", () => {
  const rank = platformMatcher({ os: "windows", architecture: "amd64", "os.version": "10.0.17763.4010" });
  assert.equal(rank({ os: "windows", architecture: "amd64", "os.version": "10.0.17763.5000" }), 0);
  assert.equal(rank({ os: "windows", architecture: "amd64", "os.version": "10.0.20348.1" }), undefined);
  assert.equal(rank({ os: "windows", architecture: "amd64" }), 0);
  const withFeatures = platformMatcher({ os: "windows", architecture: "amd64", "os.features": ["win32k"] });
  assert.equal(withFeatures({ os: "windows", architecture: "amd64", "os.features": ["win32k"] }), 0);
  assert.equal(withFeatures({ os: "windows", architecture: "amd64", "os.features": ["other"] }), undefined);
  assert.equal(platformMatcher({ os: "windows", architecture: "amd64" })({ os: "windows", architecture: "amd64", "os.features": ["win32k"] }), undefined);
});

let n = 0;
function entry(platform: Platform | undefined, extra: Partial<Descriptor> = {}): Descriptor {
  n++;
  const digest = `sha256:${n.toString(16).padStart(64, "0")}` as Descriptor["digest"];
  return { mediaType: MediaType.ociManifest, digest, size: 100 + n, ...(platform ? { platform } : {}), ...extra };
}

function index(manifests: Descriptor[]): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
}

test("selectManifest picks the best-ranked entry, the first among equals", () => {
  const amd64 = entry(p("linux", "amd64"));
  const armv6 = entry(p("linux", "arm", "v6"));
  const armv7 = entry(p("linux", "arm", "v7"));
  const arm64 = entry(p("linux", "arm64", "v8"));
  const arm64b = entry(p("linux", "aarch64"));
  const idx = index([amd64, armv6, armv7, arm64, arm64b]);
  assert.equal(selectManifest(idx, parsePlatform("linux/arm64")), arm64);
  assert.equal(selectManifest(idx, parsePlatform("linux/arm/v7")), armv7);
  assert.equal(selectManifest(idx, parsePlatform("linux/arm/v6")), armv6);
  assert.equal(selectManifest(idx, parsePlatform("linux/amd64")), amd64);
  // arm64 without an arm64 entry falls back to 32-bit arm, the newest variant first
  assert.equal(selectManifest(index([amd64, armv6, armv7]), parsePlatform("linux/arm64")), armv7);
  // amd64/v2 takes a plain amd64 image; 386 only when nothing better exists
  const i386 = entry(p("linux", "386"));
  assert.equal(selectManifest(index([i386, amd64]), parsePlatform("linux/amd64/v2")), amd64);
  assert.equal(selectManifest(index([i386]), parsePlatform("linux/amd64")), i386);
  assert.throws(() => selectManifest(index([i386]), parsePlatform("linux/amd64"), { strict: true }), isNotFound);
});

test("selectManifest skips attestations and entries without a platform; returns nested indexes", () => {
  const attestation = entry({ os: "unknown", architecture: "unknown" }, { annotations: { "vnd.docker.reference.type": "attestation-manifest" } });
  const annotatedOnly = entry(p("linux", "arm64"), { annotations: { "vnd.docker.reference.type": "attestation-manifest" } });
  const noPlatform = entry(undefined);
  const nested = entry(p("linux", "arm64"), { mediaType: MediaType.ociIndex });
  const amd64 = entry(p("linux", "amd64"));
  const idx = index([noPlatform, attestation, annotatedOnly, amd64, nested]);
  assert.equal(selectManifest(idx, parsePlatform("linux/arm64")), nested);
  assert.equal(selectManifest(idx, parsePlatform("linux/amd64")), amd64);
  assert.throws(() => selectManifest(index([noPlatform, attestation]), parsePlatform("linux/amd64")), (err: Error) =>
    isNotFound(err) && err.message === "no manifest for platform linux/amd64 in the index; available: none");
});

test("selectManifest: the error names the platform, the index and what it has", () => {
  const idx = index([
    entry(p("linux", "amd64")),
    entry({ os: "unknown", architecture: "unknown" }),
    entry(p("linux", "s390x")),
    entry(p("linux", "amd64")),
  ]);
  const digest = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";
  assert.throws(() => selectManifest(idx, parsePlatform("linux/arm64"), { digest }), (err: Error) => {
    assert.ok(isNotFound(err));
    assert.equal(err.message, `no manifest for platform linux/arm64 in index ${digest}; available: linux/amd64, linux/s390x`);
    return true;
  });
});
